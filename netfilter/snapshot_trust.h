#pragma once

#include <memory>
#include <optional>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "core/clock.h"
#include "netfilter/drift.h"
#include "netfilter/snapshot_pruning.h"

namespace ng::netfilter {

// What one check or repair needs to judge a snapshot: the latest vouchers (null: nobody
// vouches) and whether the snapshot is old. Copied to the worker.
struct TrustInput {
  std::shared_ptr<const PodVouchers> vouchers;
  bool old = false;
};

// Assesses `current` against the snapshot. When that finds drift, what belongs to CNI pods
// nobody vouches for is dropped from the snapshot first (prune_snapshot) and the table is
// assessed again: a dead pod's chains are never planned back. Without drift nothing is pruned
// (a pod removed by its owner is accepted as it always was). On a prune, `snapshot` is replaced
// by the pruned copy and `dropped` gets the entries.
Assessment assess_trusted(const Table& current, std::shared_ptr<const Table>& snapshot,
                          const std::vector<ExpectedChain>& contributed, const GuardPolicy& policy,
                          const AssessOptions& opts, const TrustInput& trust,
                          std::vector<PrunedEntry>& dropped);

// How far the guard trusts its snapshots (docs/architecture.md, "The CNI cache as a source of
// truth"): the vouchers a source (the CNI component) hands over, the age beyond which a snapshot
// is old, and the bounded wait for the source's first answer before a snapshot loaded from disk
// is used. Lives on the loop.
class SnapshotTrust {
 public:
  SnapshotTrust(core::Duration max_age, core::Duration wait, prometheus::Registry& metrics);

  // A source will hand vouchers over (called by the CNI component when it starts).
  void expect() { expected_ = true; }
  // The source's latest answer (null: it stopped). Returns true for its first answer.
  bool set(std::shared_ptr<const PodVouchers> v);
  // A snapshot loaded from disk is not used before this is false (bounded by wait()).
  bool must_wait() const { return expected_ && !answered_; }
  void give_up() { answered_ = true; }
  core::Duration wait() const { return wait_; }
  // Older than max_age, or of unknown age.
  bool old(std::optional<core::WallTime> taken, core::WallTime now) const;
  TrustInput input(std::optional<core::WallTime> taken, core::WallTime now) const;
  // A snapshot confirmed against the table is rewritten this often, so its age on disk stays
  // close to the truth even when nothing changes.
  core::Duration refresh() const { return max_age_ / 4; }
  void count(PruneReason r);

 private:
  core::Duration max_age_;
  core::Duration wait_;
  bool expected_ = false;
  bool answered_ = false;
  std::shared_ptr<const PodVouchers> vouchers_;
  prometheus::Family<prometheus::Counter>& pruned_;
};

}  // namespace ng::netfilter
