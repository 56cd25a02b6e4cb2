#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "core/log.h"
#include "probes/routes/route_source.h"

struct nl_sock;
struct nlmsghdr;

namespace ng::probes::routes {

// The route view from the kernel: one libnl NETLINK_ROUTE socket owned by the agent loop,
// subscribed to link, address and route events (IPv4 and IPv6, every table), its fd watched
// with a posix::stream_descriptor on the loop's io_context. A full dump (links, addresses,
// routes) builds the first view; events keep it current. An overrun (ENOBUFS: the kernel
// dropped events because we were slow) or an interrupted dump triggers a full re-dump.
class NetlinkRouteSource final : public RouteSource {
 public:
  NetlinkRouteSource(boost::asio::io_context& io, core::Logger log,
                     prometheus::Registry* metrics = nullptr);
  ~NetlinkRouteSource() override;

  core::Status start(Callbacks callbacks) override;
  void stop() override;
  void resync() override;
  const RouteTable& table() const override { return current_; }
  bool synced() const override { return synced_; }

  // For tests and benchmarks: shrink the socket's receive buffer (forces overruns).
  void set_receive_buffer(int bytes);
  std::uint64_t overruns() const { return overruns_; }
  std::uint64_t dumps() const { return dumps_; }

 private:
  enum class Stage { kIdle, kLinks, kAddresses, kRoutes };
  void arm();
  void on_readable();
  void begin_dump(const char* reason);
  void request(int type);
  void next_stage();
  // Returns true when the view changed.
  bool handle(const nlmsghdr* h);
  RouteTable& target() { return stage_ == Stage::kIdle ? current_ : building_; }
  void fail(const core::EnvError& e);

  boost::asio::io_context& io_;
  core::Logger log_;
  nl_sock* sock_ = nullptr;
  std::unique_ptr<boost::asio::posix::stream_descriptor> fd_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  Callbacks cb_;
  RouteTable current_;
  RouteTable building_;
  Stage stage_ = Stage::kIdle;
  bool dump_dirty_ = false;  // an overrun or interruption during the dump: dump again after it
  bool synced_ = false;
  std::uint32_t seq_ = 1;
  std::uint64_t overruns_ = 0;
  std::uint64_t dumps_ = 0;
  std::vector<char> buf_;
  prometheus::Counter* messages_ = nullptr;
  prometheus::Family<prometheus::Counter>* resyncs_ = nullptr;
};

}  // namespace ng::probes::routes
