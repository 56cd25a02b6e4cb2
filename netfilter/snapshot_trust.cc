#include "netfilter/snapshot_trust.h"

#include <string>

namespace ng::netfilter {

Assessment assess_trusted(const Table& current, std::shared_ptr<const Table>& snapshot,
                          const std::vector<ExpectedChain>& contributed, const GuardPolicy& policy,
                          const AssessOptions& opts, const TrustInput& trust,
                          std::vector<PrunedEntry>& dropped) {
  Assessment a = assess(current, *snapshot, contributed, policy, opts);
  if (!a.has_drift()) return a;
  PruneResult p = prune_snapshot(*snapshot, current, trust.vouchers.get(), trust.old);
  if (!p.table) return a;
  snapshot = std::make_shared<const Table>(std::move(*p.table));
  dropped.insert(dropped.end(), std::make_move_iterator(p.dropped.begin()),
                 std::make_move_iterator(p.dropped.end()));
  return assess(current, *snapshot, contributed, policy, opts);
}

SnapshotTrust::SnapshotTrust(core::Duration max_age, core::Duration wait,
                             prometheus::Registry& metrics)
    : max_age_(max_age),
      wait_(wait),
      pruned_(prometheus::BuildCounter()
                  .Name("nodeguard_netfilter_snapshot_pruned_total")
                  .Help("Snapshot entries of CNI pods nobody vouches for any more (a pod's chain "
                        "with the jumps into it, or its rules in a shared chain), dropped instead "
                        "of restored, by reason (no_cache_entry, sandbox_gone, unverified_old, "
                        "unvouched_old).")
                  .Register(metrics)) {
  for (PruneReason r : kPruneReasons) pruned_.Add({{"reason", std::string(to_string(r))}});
}

bool SnapshotTrust::set(std::shared_ptr<const PodVouchers> v) {
  vouchers_ = std::move(v);
  const bool first = !answered_;
  answered_ = true;
  return first;
}

bool SnapshotTrust::old(std::optional<core::WallTime> taken, core::WallTime now) const {
  return !taken || now - *taken > max_age_;
}

TrustInput SnapshotTrust::input(std::optional<core::WallTime> taken, core::WallTime now) const {
  return TrustInput{vouchers_, old(taken, now)};
}

void SnapshotTrust::count(PruneReason r) {
  pruned_.Add({{"reason", std::string(to_string(r))}}).Increment();
}

}  // namespace ng::netfilter
