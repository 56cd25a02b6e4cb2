#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "netfilter/change_writer.h"
#include "netfilter/repair_plan.h"
#include "netfilter/rule_model.h"

namespace ng::netfilter {

// How a commit was written: the label `path` of nodeguard_netfilter_commits_total.
enum class WritePath {
  kRestore,  // iptables-{legacy,nft}-restore --noflush
  kLibiptc,  // legacy: libiptc with the saved entry bytes
  kNetlink,  // nft: one netlink batch replaying the kernel's own rule encoding
};
inline std::string_view to_string(WritePath p) {
  switch (p) {
    case WritePath::kLibiptc:
      return "libiptc";
    case WritePath::kNetlink:
      return "netlink";
    case WritePath::kRestore:
      break;
  }
  return "restore";
}

struct WriteOptions {
  // false: only the backend's tool path (iptables-restore), e.g. after a fast write whose
  // read-back did not verify.
  bool fast = true;
};

// What Backend::write did.
struct WriteReport {
  WritePath path = WritePath::kRestore;  // the path that wrote the table (or failed last)
  core::Status status = core::Ok{};
  std::string fast_declined;  // the fast path could not express this plan: why (nothing tried)
  std::string fast_failed;    // the fast path was tried and refused, nothing applied: why
};

// One iptables backend (legacy xtables or nft), both families. Every call blocks (exec,
// libiptc, netlink round trips) and runs on the worker pool, never on the loop. Implementations
// must be safe to call from several workers at once.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual BackendKind kind() const = 0;

  // Whether the backend can be used at all for the family (tools installed, kernel support).
  virtual core::Status available(Family family) = 0;
  // Full read of one table. A table the backend does not hold reads as a Table without chains.
  // Bad output from the tools is kInvalidInput (nothing is planned from it).
  virtual core::Result<Table> read(Family family, const std::string& table) = 0;
  // Applies one plan as one atomic commit. The caller holds the xtables lock.
  virtual core::Status commit(Family family, const TablePlan& plan) = 0;
  // commit(), saying which way it wrote; the default is commit() through the tools. A status
  // of kind kUnavailable means the table moved under the plan: re-read and re-plan.
  virtual WriteReport write(Family family, const TablePlan& plan, const WriteOptions& options) {
    (void)options;
    WriteReport r;
    r.status = commit(family, plan);
    return r;
  }
  // A cheap value that changes whenever the table may have changed, costing microseconds and
  // copying no rules (legacy: IPT_SO_GET_INFO size, entry count and hook offsets; nft: the
  // ruleset generation id, which covers every table). kNotFound when the table is not there.
  virtual core::Result<std::uint64_t> change_token(Family family, const std::string& table) = 0;
  // A token of the table's shape cheap enough for the loop thread: a few microseconds, never
  // waiting on another thread's long work (legacy: IPT_SO_GET_INFO alone, skipped while a
  // worker holds the socket for a content hash). nullopt: none (nft), or not now; the guard
  // then polls change_token on a worker. It misses same-size changes (a policy flip): the
  // worker's change_token, polled less often, covers those.
  virtual std::optional<std::uint64_t> loop_token(Family family, const std::string& table) {
    (void)family;
    (void)table;
    return std::nullopt;
  }
};

// Push notifications of table changes (nft: NFNLGRP_NFTABLES netlink, netfilter/nft). Without
// one, or when it fails to start, nft tables are polled through their change token like legacy.
class ChangeSource {
 public:
  virtual ~ChangeSource() = default;
  virtual core::Status start(std::function<void(Family, const std::string&)> on_change,
                             std::function<void(bool certain)> on_lost) = 0;
  virtual void stop() = 0;
  // Who committed the last change heard for this table; nullopt when the source cannot say.
  virtual std::optional<ChangeWriter> last_writer(Family family, const std::string& table) const {
    (void)family;
    (void)table;
    return std::nullopt;
  }
};

}  // namespace ng::netfilter
