#pragma once

#include <cstdint>
#include <memory>
#include <set>

#include <boost/asio/io_context.hpp>

#include "core/clock.h"
#include "probes/connectivity/probe_transport.h"

namespace ng::probes::connectivity {

// TCP connects (async_resolve + async_connect) and ICMP echoes (a ping socket where
// net.ipv4.ping_group_range allows it, else a raw socket with CAP_NET_RAW) on the agent loop;
// every probe is bounded by its timeout, nothing blocks.
class AsioProbeTransport final : public ProbeTransport {
 public:
  AsioProbeTransport(boost::asio::io_context& io, core::Clock& clock) : io_(io), clock_(clock) {}
  ~AsioProbeTransport() override;

  void tcp_connect(const std::string& host, int port, core::Duration timeout, Done done) override;
  void ping(const std::string& address, core::Duration timeout, Done done) override;
  void cancel_all() override;

 private:
  struct Op;
  struct TcpOp;
  struct PingOp;
  void track(const std::shared_ptr<Op>& op);

  boost::asio::io_context& io_;
  core::Clock& clock_;
  std::set<std::shared_ptr<Op>> ops_;
  std::uint16_t seq_ = 0;
};

}  // namespace ng::probes::connectivity
