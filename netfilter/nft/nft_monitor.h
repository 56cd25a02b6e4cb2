#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/log.h"
#include "core/result.h"
#include "netfilter/backend.h"
#include "netfilter/nft/nft_generation.h"
#include "netfilter/nft/nft_listen_gate.h"
#include "netfilter/rule_model.h"

namespace ng::netfilter {

// Listens for nftables change notifications (NFNLGRP_NFTABLES) on the loop and reports which
// ip/ip6 tables changed, once per table per batch of messages read. A lost message (ENOBUFS:
// the socket buffer overflowed during a big transaction) is reported as such: re-read all.
// With a gate shared with the NftBackend, the backend's own batches go unheard (nft_listen_gate.h).
// It also follows transactions: at each NFT_MSG_NEWGEN it knows which tables (of any family)
// the transaction touched and which process committed it (attribution, issue 19).
class NftMonitor final : public ChangeSource {
 public:
  // Called on the loop for every committed transaction as its NEWGEN is read (before on_change
  // for the tables of that read).
  using OnGeneration = std::function<void(const NftGeneration&)>;
  // Fills in what /proc says about the writer (unit, container) while it still exists; called
  // on the loop as NEWGEN is read, so it must be quick and bounded.
  using WriterResolver = std::function<void(ChangeWriter&)>;

  using OnChange = std::function<void(Family family, const std::string& table)>;
  // certain: notifications were lost for sure (ENOBUFS, or someone wrote while our own batch
  // kept us deaf); false: after a deaf window of our own that may have hidden a write.
  using OnLost = std::function<void(bool certain)>;

  NftMonitor(boost::asio::io_context& io, core::Logger log,
             std::shared_ptr<NftListenGate> gate = nullptr);
  ~NftMonitor() override;

  core::Status start(OnChange on_change, OnLost on_lost) override;
  void stop() override;
  // Set before start().
  void on_generation(OnGeneration cb) { on_generation_ = std::move(cb); }
  void set_writer_resolver(WriterResolver r) { resolve_ = std::move(r); }
  // The writer of the last transaction heard that touched this table (bounded memory: the
  // most recent kMaxRemembered tables).
  std::optional<ChangeWriter> last_writer(Family family, const std::string& table) const override;
  std::optional<ChangeWriter> last_writer(const NftTableRef& table) const;

  // Message by message (public for unit tests: feed parsed messages without a socket).
  void on_message(int msg, int nfproto, const char* table, std::uint32_t genid, std::uint32_t pid,
                  const char* comm);

  static constexpr size_t kMaxRemembered = 512;

 private:
  void arm();
  void end_generation(ChangeWriter writer);
  void hold_until_generation();
  void report_held();

  boost::asio::io_context& io_;
  OnChange on_change_;
  OnLost on_lost_;
  core::Logger log_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> sd_;
  std::shared_ptr<bool> alive_;
  std::shared_ptr<NftListenGate> gate_;
  OnGeneration on_generation_;
  WriterResolver resolve_;
  // The transaction being heard: touched tables until its NEWGEN.
  std::map<NftTableRef, std::uint64_t> pending_;
  bool pending_truncated_ = false;
  // table -> writer of its last transaction, with an age order to bound it.
  std::map<NftTableRef, std::pair<std::uint64_t, ChangeWriter>> writers_;
  std::uint64_t generations_heard_ = 0;
  // Tables changed by a transaction whose NEWGEN has not been read yet (see arm()).
  static constexpr std::chrono::milliseconds kHoldLimit{100};
  std::set<std::pair<int, std::string>> held_;
  std::unique_ptr<boost::asio::steady_timer> hold_timer_;
  bool hold_armed_ = false;
};

}  // namespace ng::netfilter
