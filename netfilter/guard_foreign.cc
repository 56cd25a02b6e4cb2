// Foreign rules (reported: log, event, condition, metric; never restored, assess() decides) and
// snapshot entries an operator told the guard to forget (the Forget RPC).
#include <algorithm>

#include "netfilter/guard_internal.h"

namespace ng::netfilter {

using guard_detail::join;
using guard_detail::kComponent;

void Guard::note_foreign(Watch& w, const Assessment& a) {
  std::set<std::string> now;
  std::vector<std::string> fresh;
  std::vector<std::string> chains;
  for (const auto& f : a.foreign) {
    std::string k = f.chain + "\n" + f.rule;
    if (!w.foreign_seen.count(k)) {
      fresh.push_back(("-A " + f.chain + " " + f.rule).substr(0, 240) + " (" + f.owner + ": " +
                      f.why + ")");
      if (std::find(chains.begin(), chains.end(), f.chain) == chains.end()) {
        chains.push_back(f.chain);
      }
    }
    now.insert(std::move(k));
  }
  w.foreign = a.foreign;
  w.foreign_total = a.foreign_total;
  w.foreign_seen = std::move(now);
  metrics_.foreign(w.key.backend, w.key.family, w.key.table, a.foreign_total);
  if (fresh.empty()) return;
  d_.log.warn("netfilter foreign rule", {{"table", w.key.str()},
                                         {"new", fresh.size()},
                                         {"total", a.foreign_total},
                                         {"chains", join(chains, ",", 10)},
                                         {"rules", join(fresh, " | ", 5)}});
  d_.health.record_event(
      core::HealthEvent{kComponent,
                        "NetfilterForeignRule",
                        "Rule(s) in guarded chains of " + w.key.str() +
                            " that no owner explains; left in place and not restored if deleted: " +
                            join(fresh, "; ", 3),
                        core::Severity::kWarning,
                        {{"table", w.key.table},
                         {"family", std::string(to_string(w.key.family))},
                         {"backend", std::string(to_string(w.key.backend))},
                         {"chains", join(chains, ",", 10)}}});
}

void Guard::update_foreign_condition() {
  std::vector<std::string> items;
  size_t total = 0;
  for (const auto& [k, w] : watches_) {
    total += w->foreign_total;
    for (const auto& f : w->foreign) {
      items.push_back(k.str() + " " + ("-A " + f.chain + " " + f.rule).substr(0, 200));
    }
  }
  const bool active = total > 0;
  if (!active && !foreign_condition_) return;
  foreign_condition_ = active;
  d_.health.set_condition(core::ConditionReport{
      "NetfilterForeignRules", active, active ? "UnexplainedRules" : "",
      active ? std::to_string(total) +
                   " rule(s) in guarded iptables chains that no owner (CNI plugin, kube-proxy, "
                   "Calico) explains: " +
                   join(items, "; ", 5) +
                   ". nodeguard leaves them in place but does not restore them once deleted; "
                   "delete them if nobody on this node should have written them."
             : "",
      core::Severity::kWarning});
}

// Forgotten entries stay out of the snapshot while the table still holds them; once a read shows
// them gone, a later rule or chain of that name is learned as usual.
void Guard::strip_forgotten(const Watch& w, Table& snapshot) const {
  for (const auto& e : w.forgotten) (void)forget_in(snapshot, e);
}

void Guard::prune_forgotten(Watch& w, const Table& read) {
  std::erase_if(w.forgotten, [&](const ForgetEntry& e) { return !entry_present(read, e); });
}

std::shared_ptr<const std::set<std::string>> Guard::unvouched(const Watch& w) const {
  if (!vouch_) return nullptr;
  auto out = std::make_shared<std::set<std::string>>();
  for (const auto& c : w.snapshot->chains) {
    for (const auto& r : c.rules) {
      if (r.comment.empty() || (r.comment[0] != 'n' && r.comment[0] != 'd')) continue;
      auto sig = parse_cni_comment(r.comment);
      if (sig && !vouch_(sig->network, sig->container_id)) out->insert(sig->container_id);
    }
  }
  return out;
}

std::vector<ForgetResult> Guard::forget(const ForgetRequest& req) {
  std::vector<ForgetResult> out;
  for (auto& [k, w] : watches_) {
    if (k.table != req.table) continue;
    if (req.family && k.family != *req.family) continue;
    if (req.backend && k.backend != *req.backend) continue;
    Table next = *w->snapshot;
    auto removed = forget_in(next, req.entry);
    if (removed.empty()) continue;
    if (std::find(w->forgotten.begin(), w->forgotten.end(), req.entry) == w->forgotten.end()) {
      w->forgotten.push_back(req.entry);
    }
    accept_snapshot(*w, std::move(next), w->canary_present);
    metrics_.forgotten(k.backend, k.family, k.table);
    d_.log.info("snapshot entry forgotten", {{"table", k.str()},
                                             {"chain", req.entry.chain},
                                             {"rule", req.entry.rule},
                                             {"who", req.who},
                                             {"reason", req.reason},
                                             {"removed", join(removed, " | ", 12)}});
    d_.health.record_event(core::HealthEvent{
        kComponent,
        "NetfilterSnapshotForgotten",
        "Forgot " + std::to_string(removed.size()) + " snapshot entr" +
            (removed.size() == 1 ? "y" : "ies") + " of " + k.str() + " (" + join(removed, "; ", 3) +
            ") at the request of " + req.who + "; the guard no longer restores them",
        core::Severity::kInfo,
        {{"table", k.table},
         {"family", std::string(to_string(k.family))},
         {"backend", std::string(to_string(k.backend))},
         {"chains", req.entry.chain}}});
    out.push_back(ForgetResult{k, std::move(removed)});
  }
  return out;
}

}  // namespace ng::netfilter
