#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "core/process_runner.h"
#include "netfilter/backend.h"

namespace ng::netfilter {

// iptables-legacy (xtables). The kernel holds each table as one blob replaced whole, and
// libiptc (behind netfilter/legacy/iptc_shim.h) reads and commits it. A read pairs two views
// taken under an unchanged IPT_SO_GET_INFO: the text of iptables-legacy-save (the rules'
// identity, for logs, ngctl and snapshots) and libiptc's entries (the exact bytes to write
// back). A commit is one iptc_commit of a fresh libiptc snapshot edited with those bytes, so a
// repaired rule is bit-for-bit the one that was flushed. Rules that only exist as text (from
// an expected-rules provider) go through iptables-legacy-restore --noflush instead, also one
// atomic table replace. Tables the kernel does not list in /proc/net/ip_tables_names are never
// touched (reading one would instantiate it).
class LegacyBackend final : public Backend {
 public:
  // content_every: how stale the content hash inside the change token may be (see below).
  explicit LegacyBackend(core::ProcessRunner& runner, std::string proc_net = "/proc/net",
                         std::chrono::milliseconds content_every = std::chrono::seconds(5));
  ~LegacyBackend() override;

  BackendKind kind() const override { return BackendKind::kLegacy; }
  core::Status available(Family family) override;
  core::Result<Table> read(Family family, const std::string& table) override;
  core::Status commit(Family family, const TablePlan& plan) override;
  WriteReport write(Family family, const TablePlan& plan, const WriteOptions& options) override;
  // IPT_SO_GET_INFO (size, entries, hooks: every flush or added/removed rule shows, copying no
  // rules) combined with a content hash of the entries without counters that is refreshed at
  // most every content_every (a policy flip or a same-size rule replacement shows within that).
  core::Result<std::uint64_t> change_token(Family family, const std::string& table) override;
  // IPT_SO_GET_INFO only (~1 us), for the guard's poll on the loop; nullopt while a worker
  // holds the info socket (a content hash copies the table: milliseconds) or on error.
  std::optional<std::uint64_t> loop_token(Family family, const std::string& table) override;

  // The two halves, for the benchmark.
  core::Result<std::uint64_t> info_token(Family f, const std::string& table);
  core::Result<std::uint64_t> content_token(Family f, const std::string& table);

 private:
  bool listed(Family f, const std::string& table);
  int info_fd(Family f);
  core::Status commit_libiptc(Family f, const TablePlan& plan);
  core::Status commit_restore(Family f, const TablePlan& plan);

  core::ProcessRunner& runner_;
  std::string proc_net_;
  std::mutex iptc_mu_;  // libiptc keeps file-static state
  std::mutex info_mu_;
  int info_fd_[2] = {-1, -1};
  std::map<Family, std::pair<std::chrono::steady_clock::time_point, std::set<std::string>>> names_;
  std::chrono::milliseconds content_every_;
  struct Content {
    std::uint64_t info = 0;
    std::uint64_t hash = 0;
    std::chrono::steady_clock::time_point at{};
  };
  std::map<std::pair<Family, std::string>, Content> content_;
};

}  // namespace ng::netfilter
