#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "core/log.h"
#include "core/result.h"
#include "netfilter/backend.h"
#include "netfilter/nft/nft_listen_gate.h"
#include "netfilter/rule_model.h"

namespace ng::netfilter {

// Listens for nftables change notifications (NFNLGRP_NFTABLES) on the loop and reports which
// ip/ip6 tables changed, once per table per batch of messages read. A lost message (ENOBUFS:
// the socket buffer overflowed during a big transaction) is reported as such: re-read all.
// With a gate shared with the NftBackend, the backend's own batches go unheard (nft_listen_gate.h).
class NftMonitor final : public ChangeSource {
 public:
  using OnChange = std::function<void(Family family, const std::string& table)>;
  // certain: notifications were lost for sure (ENOBUFS, or someone wrote while our own batch
  // kept us deaf); false: after a deaf window of our own that may have hidden a write.
  using OnLost = std::function<void(bool certain)>;

  NftMonitor(boost::asio::io_context& io, core::Logger log,
             std::shared_ptr<NftListenGate> gate = nullptr);
  ~NftMonitor() override;

  core::Status start(OnChange on_change, OnLost on_lost) override;
  void stop() override;

 private:
  void arm();

  boost::asio::io_context& io_;
  OnChange on_change_;
  OnLost on_lost_;
  core::Logger log_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> sd_;
  std::shared_ptr<bool> alive_;
  std::shared_ptr<NftListenGate> gate_;
};

}  // namespace ng::netfilter
