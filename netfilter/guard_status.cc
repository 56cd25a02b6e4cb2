// What the guard tells about itself: the health conditions, the component status and the view
// of every table (ListRules, the status RPC, table listeners).
#include <set>

#include "netfilter/guard_internal.h"

namespace ng::netfilter {

using guard_detail::join;

void Guard::update_conditions() {
  std::vector<std::string> fighting, dropped, failing;
  for (const auto& [k, w] : watches_) {
    if (w->fight.fighting()) {
      fighting.push_back(
          k.str() + " (backoff " +
          std::to_string(
              std::chrono::duration_cast<std::chrono::seconds>(w->fight.backoff()).count()) +
          "s)");
    }
    for (const auto& r : w->reports) {
      if (r.kind == DriftKind::kPolicyChanged) dropped.push_back(k.str() + " " + r.chain);
    }
    if (w->repair_failing) failing.push_back(k.str());
  }
  auto set = [&](bool& last, const char* type, const std::vector<std::string>& items,
                 const char* reason, std::string message, core::Severity sev) {
    const bool active = !items.empty();
    if (active == last && !active) return;
    last = active;
    d_.health.set_condition(core::ConditionReport{type, active, active ? reason : "",
                                                  active ? std::move(message) : "", sev});
  };
  set(fight_condition_, "NetfilterFight", fighting, "RepeatedDrift",
      "Another writer keeps removing the same guarded rules right after each repair in " +
          join(fighting, ", ") +
          "; repairs back off exponentially. Find the controller fighting over these chains.",
      core::Severity::kWarning);
  set(policy_condition_, "NetfilterPolicyDrop", dropped, "BuiltinPolicyDrop",
      "Built-in chain policy flipped from ACCEPT to DROP: " + join(dropped, ", ") +
          (opt_.restore_policies ? "; nodeguard restores it."
                                 : ". Pod traffic through these chains is dropped; set "
                                   "netfilter.restore_policies: true to restore it."),
      core::Severity::kWarning);
  set(failing_condition_, "NetfilterRepairFailing", failing, "RepairFailed",
      "Guarded iptables chains cannot be repaired in " + join(failing, ", ") +
          "; see the agent log and nodeguard_environment_errors_total.",
      core::Severity::kError);
  update_foreign_condition();
}

core::ComponentStatus Guard::status() const {
  core::ComponentStatus s;
  if (!opt_.enabled) {
    s.state = core::ComponentState::kDisabled;
    s.message = "netfilter.enabled is false";
    return s;
  }
  if (phase_ == Phase::kStopped) return s;
  if (phase_ == Phase::kStarting) {
    s.state = core::ComponentState::kStarting;
    s.message = "detecting iptables backends";
    return s;
  }
  std::vector<std::string> backends;
  for (auto b : choice_backends_) backends.emplace_back(to_string(b));
  std::set<std::string> tables;
  size_t rules = 0;
  std::vector<std::string> errors, fighting;
  for (const auto& [k, w] : watches_) {
    tables.insert(k.table);
    rules += w->guarded_rules;
    if (w->error) errors.push_back(k.str() + ": " + w->last_error);
    if (w->fight.fighting()) fighting.push_back(k.str());
  }
  s.state = errors.empty() && !choice_backends_.empty() && persist_error_.empty()
                ? core::ComponentState::kRunning
                : core::ComponentState::kDegraded;
  s.message = "watching " + join({tables.begin(), tables.end()}, ", ") + " on " +
              (backends.empty() ? std::string("no backend") : join(backends, "+")) + "; " +
              std::to_string(rules) + " guarded rules";
  if (opt_.dry_run) s.message += "; dry-run";
  if (!errors.empty()) s.message += "; " + errors.front();
  if (!persist_error_.empty()) {
    s.message += "; snapshots not persisted (guarding from memory): " + persist_error_;
  }
  s.details = {{"backends", join(backends, ",")},
               {"backend_mode", opt_.backend_mode},
               {"backend_why", choice_why_},
               {"tables", std::to_string(watches_.size())},
               {"guarded_rules", std::to_string(rules)},
               {"repairs", std::to_string(repairs_total_)},
               {"fighting", join(fighting, ",")},
               {"dry_run", opt_.dry_run ? "true" : "false"},
               {"nft_events", nft_events_running_ ? "netlink" : "poll"},
               {"snapshot_error", persist_error_}};
  return s;
}

GuardView Guard::view() const {
  GuardView v;
  v.mode = opt_.backend_mode;
  v.backend_why = choice_why_;
  v.backends = choice_backends_;
  v.dry_run = opt_.dry_run;
  for (const auto& [k, w] : watches_) v.tables.push_back(table_view(*w));
  return v;
}

TableView Guard::table_view(const Watch& w) const {
  TableView t;
  t.key = w.key;
  t.state = w.state;
  t.snapshot = w.snapshot;
  t.guarded_chains = w.guarded_chains;
  t.guarded_rules = w.guarded_rules;
  t.canary_present = w.canary_present;
  t.last_check = w.last_check;
  t.last_repair = w.last_repair;
  t.last_repair_result = w.last_repair_result;
  t.last_repair_changes = w.last_changes;
  t.last_drift = w.last_drift;
  t.reports = w.reports;
  t.foreign = w.foreign;
  t.foreign_total = w.foreign_total;
  t.last_error = w.last_error;
  t.repairs = w.repairs;
  t.fighting = w.fight.fighting();
  t.backoff = w.fight.backoff();
  t.last_writer = writer_of(w.key);
  t.drift_writer = w.drift_writer;
  if (!t.last_writer) t.writer_note = guard_detail::writer_unknown_text(w.key.backend);
  return t;
}

}  // namespace ng::netfilter
