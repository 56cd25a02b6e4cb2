// The guard's side of snapshot trust (snapshot_trust.h): the CNI cache's vouchers, the bounded
// wait for them at start, dead pods' entries dropped from a snapshot, and the snapshot's age.
#include <algorithm>

#include "netfilter/guard_internal.h"

namespace ng::netfilter {

void Guard::set_pod_vouchers(std::shared_ptr<const PodVouchers> vouchers) {
  const bool readable = vouchers && vouchers->cache_readable;
  if (trust_.set(std::move(vouchers)) && holding_) {
    release_held(readable ? "the CNI cache answered" : "the CNI cache is unreadable");
  }
}

bool Guard::hold_for_vouchers(bool snapshot_loaded) {
  if (!snapshot_loaded || !trust_.must_wait()) return false;
  d_.log.info(
      "netfilter guard waits for the CNI cache before using its snapshots",
      {{"wait_ms", std::chrono::duration_cast<std::chrono::milliseconds>(trust_.wait()).count()}});
  if (!hold_timer_) hold_timer_ = d_.clock.make_timer();
  hold_timer_->arm(trust_.wait(), [this] {
    if (!holding_) return;
    trust_.give_up();
    d_.log.warn("CNI cache did not answer in time; snapshots are trusted by their age alone",
                {{"wait_ms",
                  std::chrono::duration_cast<std::chrono::milliseconds>(trust_.wait()).count()}});
    release_held("the CNI cache did not answer in time");
  });
  return true;
}

void Guard::report_pruned(const TableKey& k, const std::vector<PrunedEntry>& pruned) {
  if (pruned.empty()) return;
  size_t rules = 0;
  std::vector<std::string> chains, containers;
  for (const auto& e : pruned) {
    rules += e.rules;
    trust_.count(e.reason);
    d_.log.info("snapshot entry dropped; its pod is gone", {{"table", k.str()},
                                                            {"chain", e.chain},
                                                            {"whole_chain", e.whole_chain},
                                                            {"network", e.network},
                                                            {"container_id", e.container_id},
                                                            {"rules", e.rules},
                                                            {"reason", to_string(e.reason)},
                                                            {"why", e.why}});
    if (e.whole_chain && chains.size() < 20) chains.push_back(e.chain);
    if (std::find(containers.begin(), containers.end(), e.container_id) == containers.end() &&
        containers.size() < 20) {
      containers.push_back(e.container_id);
    }
  }
  std::string list;
  for (const auto& c : containers) list += (list.empty() ? "" : ",") + c;
  std::string chain_list;
  for (const auto& c : chains) chain_list += (chain_list.empty() ? "" : ",") + c;
  d_.health.record_event(core::HealthEvent{
      "netfilter",
      "NetfilterSnapshotPruned",
      "Dropped " + std::to_string(rules) + " rules of " + std::to_string(containers.size()) +
          " gone pods from the snapshot of " + k.str() + " instead of restoring them",
      core::Severity::kInfo,
      {{"table", k.table},
       {"family", std::string(to_string(k.family))},
       {"backend", std::string(to_string(k.backend))},
       {"chains", chain_list},
       {"containers", list},
       {"rules", std::to_string(rules)}}});
}

// Dead pods' entries dropped from a snapshot on a worker: the watch takes the pruned snapshot
// unless it moved on meanwhile (the next check prunes again), and says so once.
void Guard::apply_pruned(Watch& w, const std::shared_ptr<const Table>& from,
                         const std::shared_ptr<const Table>& to,
                         const std::vector<PrunedEntry>& pruned) {
  if (!to || w.snapshot != from) return;
  w.snapshot = to;
  w.guarded_rules = policy_->guarded_rule_count(*to);
  w.guarded_chains = policy_->guarded_chain_count(*to);
  metrics_.guarded(w.key.backend, w.key.family, w.key.table, w.guarded_rules, w.guarded_chains);
  report_pruned(w.key, pruned);
  persist(w);
}

// Start-up checks held for the CNI cache's first answer go now.
void Guard::release_held(std::string_view why) {
  if (!holding_) return;
  holding_ = false;
  if (hold_timer_) hold_timer_->cancel();
  d_.log.info("netfilter guard uses its snapshots", {{"why", why}});
  const auto now = d_.clock.now();
  for (auto& [k, w] : watches_) start_check(*w, "start", now);
}

// A check found the table as the snapshot says: its age restarts; the file is rewritten now
// and then so that a restart after a quiet week does not find it old.
void Guard::confirm_snapshot(Watch& w) {
  const auto now = d_.clock.wall_now();
  w.snapshot_taken = now;
  if (!w.persisted_taken || now - *w.persisted_taken >= trust_.refresh()) persist(w);
}

}  // namespace ng::netfilter
