// The loop side of repairs: starting a repair job on a worker, taking its outcome back into the
// table's state (log, event, metrics, snapshot), and the operator's repair-now.
#include <algorithm>

#include "netfilter/guard_internal.h"
#include "netfilter/guard_repair_job.h"

namespace ng::netfilter {

namespace {

using guard_detail::add_writer_attributes;
using guard_detail::add_writer_fields;
using guard_detail::join;
using guard_detail::kComponent;
using guard_detail::kinds_of;
using guard_detail::seconds;
using guard_detail::writer_phrase;

void record_writes(GuardMetrics& m, const TableKey& k, const RepairOutcome& o) {
  for (const auto& [path, result] : o.writes) m.commit(k.backend, k.family, path, result);
}

// What the Repair RPC answers for one table.
TableRepairResult repair_result(const TableKey& key, const RepairOutcome& o, bool dry) {
  TableRepairResult r;
  r.key = key;
  r.dry_run = dry;
  r.restore_text = o.restore_text;
  r.changes = o.plan.describe();
  r.committed = o.committed;
  if (o.assessment) {
    r.drift = o.assessment->drift;
    r.reports = o.assessment->reports;
  }
  if (o.error) r.error = o.error->message;
  if (!o.verify_problems.empty()) r.error = "verify: " + join(o.verify_problems, "; ");
  return r;
}

// The results of a repair-now, answered once every table is done, in table order.
struct Collect {
  std::vector<TableRepairResult> results;
  size_t pending = 0;
  std::function<void(std::vector<TableRepairResult>)> done;

  void add(TableRepairResult r) {
    results.push_back(std::move(r));
    if (--pending == 0) {
      std::sort(results.begin(), results.end(),
                [](const auto& a, const auto& b) { return a.key < b.key; });
      done(std::move(results));
    }
  }
};

}  // namespace

RepairJob Guard::make_repair_job(const Watch& w, bool dry_run) const {
  RepairJob job;
  job.backend = w.backend;
  job.key = w.key;
  job.snapshot = w.snapshot;
  job.contributed = contributions(w.key);
  job.opts = assess_options(w);
  job.policy = policy_;
  job.dry_run = dry_run;
  job.restore_policies = opt_.restore_policies;
  job.lock = lock_;
  job.lock_timeout = opt_.lock_timeout;
  job.clock = &d_.clock;
  job.trust = trust_.input(w.snapshot_taken, d_.clock.wall_now());
  return job;
}

void Guard::start_repair(Watch& w, Table current, std::optional<std::uint64_t> token,
                         core::MonoTime detected_at, std::string trigger, bool setup,
                         std::optional<Assessment> assessed, const CheckBasis* basis) {
  w.busy = Watch::Busy::kRepairing;
  if (!setup) w.state = "repairing";
  RepairJob job = make_repair_job(w, opt_.dry_run);
  job.current = std::move(current);
  job.token = token;
  if (assessed && basis && basis->snapshot == job.snapshot && basis->policy == job.policy &&
      basis->opts == job.opts && basis->contributed == job.contributed) {
    job.assessed = std::move(assessed);
  }
  d_.workers.post([this, alive = std::weak_ptr<bool>(alive_), job = std::move(job), detected_at,
                   trigger = std::move(trigger), setup, &loop = d_.loop]() mutable {
    RepairOutcome o = run_repair_job(job);
    loop.post(
        [this, alive, key = job.key, o = std::move(o), detected_at, trigger, setup]() mutable {
          if (alive.expired()) return;
          if (Watch* w = find(key)) on_repaired(*w, std::move(o), detected_at, trigger, setup);
        });
  });
}

void Guard::on_repaired(Watch& w, RepairOutcome o, core::MonoTime detected_at, std::string trigger,
                        bool setup) {
  w.busy = Watch::Busy::kIdle;
  record_writes(metrics_, w.key, o);
  if (o.pruned_to) apply_pruned(w, o.pruned_from, o.pruned_to, o.pruned);
  if (o.error) {
    repair_failed(w, o, setup);
    return;
  }
  Assessment& A = *o.assessment;
  note_foreign(w, A);
  if (o.token_after) w.last_token = o.token_after;  // our own commit is not news
  if (setup) {
    if (o.committed) canary_created(w, A);
  } else if (opt_.dry_run) {
    would_repair(w, o);
  } else if (o.plan.empty()) {
    // Someone else put it back between our check and the lock.
    d_.log.info("netfilter drift gone before repair", {{"table", w.key.str()}});
    w.state = "ok";
    if (!A.has_drift()) accept_snapshot(w, A.expected, A.canary_present);
  } else {
    repair_applied(w, o, detected_at, trigger);
  }
  finish(w);
}

void Guard::repair_failed(Watch& w, const RepairOutcome& o, bool setup) {
  const auto& k = w.key;
  if (!setup) {
    metrics_.repair(k.backend, k.family, k.table, "failed", w.drift_writer_label);
    w.last_repair_result = "failed";
    w.repair_failing = true;
    core::HealthEvent e{kComponent,
                        "NetfilterRepairFailed",
                        "Could not repair " + k.str() + ": " + o.error->message,
                        core::Severity::kError,
                        {{"table", k.table},
                         {"family", std::string(to_string(k.family))},
                         {"backend", std::string(to_string(k.backend))}}};
    add_writer_attributes(e.attributes, k.backend, w.drift_writer);
    d_.health.record_event(std::move(e));
  }
  std::vector<core::LogField> fields = {{"table", k.str()},
                                        {"error", o.error->message},
                                        {"path", to_string(o.path)},
                                        {"fallback", o.fallback},
                                        {"restore", o.restore_text}};
  if (!setup) add_writer_fields(fields, k.backend, w.drift_writer);
  d_.log.log(core::LogLevel::kError,
             setup ? "netfilter canary setup failed" : "netfilter repair failed", fields);
  report_error(w, *o.error, setup ? "canary setup" : "repair");
  finish(w);
}

void Guard::canary_created(Watch& w, const Assessment& A) {
  d_.log.info("netfilter canary chain created",
              {{"table", w.key.str()}, {"chain", GuardPolicy::kCanary}});
  w.canary_expected = true;
  w.canary_present = true;
  accept_snapshot(w, A.expected, true);
}

void Guard::would_repair(Watch& w, const RepairOutcome& o) {
  const auto& k = w.key;
  const auto changes = o.plan.describe();
  metrics_.repair(k.backend, k.family, k.table, "dry_run", w.drift_writer_label);
  w.last_repair_result = "dry_run";
  w.last_changes = changes;
  d_.log.warn("netfilter dry-run: would apply",
              {{"table", k.str()},
               {"kinds", join(kinds_of(o.assessment->drift), ",")},
               {"changes", changes.size()},
               {"restore", o.restore_text}});
}

void Guard::repair_applied(Watch& w, const RepairOutcome& o, core::MonoTime detected_at,
                           const std::string& trigger) {
  const auto& k = w.key;
  const Assessment& A = *o.assessment;
  const bool verified = o.verify_problems.empty();
  const std::string result = verified ? "applied" : "verify_failed";
  metrics_.repair(k.backend, k.family, k.table, result, w.drift_writer_label);
  metrics_.repair_duration(k.backend, k.family, seconds(o.committed_at - detected_at));
  ++w.repairs;
  ++repairs_total_;
  w.last_repair = d_.clock.wall_now();
  w.last_repair_result = result;
  w.last_changes = o.plan.describe();
  w.repair_failing = !verified;
  w.fight.repaired(d_.clock.now(), A.flush, A.signature);
  tell_repaired(w, o, detected_at, trigger);
  accept_snapshot(w, A.expected, true);
  w.state = verified ? "ok" : "drift";
  if (!verified) {
    w.timer->arm(opt_.retry_interval, [this, key = w.key] {
      if (Watch* x = find(key)) start_check(*x, "retry", d_.clock.now());
    });
  }
}

// The log line and the event of a committed repair.
void Guard::tell_repaired(const Watch& w, const RepairOutcome& o, core::MonoTime detected_at,
                          const std::string& trigger) {
  const auto& k = w.key;
  const Assessment& A = *o.assessment;
  const bool verified = o.verify_problems.empty();
  const double took = seconds(o.committed_at - detected_at);
  const auto kinds = join(kinds_of(A.drift), ",");
  const auto chains = join(o.plan.chain_names(), ",");
  std::vector<core::LogField> fields = {
      {"table", k.str()},
      {"backend", to_string(k.backend)},
      {"family", to_string(k.family)},
      {"trigger", trigger},
      {"kinds", kinds},
      {"why", A.flush ? A.drift.front().detail : A.signature},
      {"chains", chains},
      {"rules_written", o.plan.rules_written()},
      {"changes", join(w.last_changes, " | ", 12)},
      {"detect_to_commit_ms", took * 1000.0},
      {"since_detect_ms", seconds(d_.clock.now() - detected_at) * 1000.0},
      {"result", w.last_repair_result},
      {"path", to_string(o.path)},
      {"fallback", o.fallback},
      {"verify", join(o.verify_problems, "; ")}};
  add_writer_fields(fields, k.backend, w.drift_writer);
  d_.log.log(verified ? core::LogLevel::kInfo : core::LogLevel::kWarn, "repair applied", fields);
  core::HealthEvent e{kComponent,
                      verified ? "NetfilterRepaired" : "NetfilterRepairUnverified",
                      "Restored " + std::to_string(o.plan.rules_written()) + " guarded rules in " +
                          k.str() + " after " + kinds + writer_phrase(k.backend, w.drift_writer) +
                          (verified ? "" : "; read-back differs: " + join(o.verify_problems, "; ")),
                      verified ? core::Severity::kInfo : core::Severity::kWarning,
                      {{"table", k.table},
                       {"family", std::string(to_string(k.family))},
                       {"backend", std::string(to_string(k.backend))},
                       {"kinds", kinds},
                       {"chains", chains}}};
  add_writer_attributes(e.attributes, k.backend, w.drift_writer);
  d_.health.record_event(std::move(e));
}

void Guard::repair_now(RepairRequest req,
                       std::function<void(std::vector<TableRepairResult>)> done) {
  std::vector<Watch*> targets;
  for (auto& [k, w] : watches_) {
    if (!req.table.empty() && k.table != req.table) continue;
    if (req.family && k.family != *req.family) continue;
    if (req.backend && k.backend != *req.backend) continue;
    targets.push_back(w.get());
  }
  if (phase_ != Phase::kRunning || targets.empty()) {
    done({});
    return;
  }
  const bool dry = req.dry_run || opt_.dry_run;
  d_.log.info("netfilter repair requested",
              {{"reason", req.reason}, {"dry_run", dry}, {"tables", targets.size()}});
  auto c = std::make_shared<Collect>();
  c->pending = targets.size();
  c->done = std::move(done);
  const auto detected_at = d_.clock.now();
  for (Watch* w : targets) {
    d_.workers.post([this, alive = std::weak_ptr<bool>(alive_), job = make_repair_job(*w, dry), c,
                     dry, detected_at, reason = req.reason, &loop = d_.loop]() mutable {
      RepairOutcome o = run_repair_job(job);
      loop.post([this, alive, key = job.key, o = std::move(o), c, dry, detected_at, reason] {
        TableRepairResult r = repair_result(key, o, dry);
        if (!alive.expired()) {
          record_writes(metrics_, key, o);
          if (Watch* w = find(key)) operator_repaired(*w, o, r.changes, dry, detected_at, reason);
        }
        c->add(std::move(r));
      });
    });
  }
}

// A repair-now of one table done: its state as after any repair (no event: the caller is told).
void Guard::operator_repaired(Watch& w, const RepairOutcome& o,
                              const std::vector<std::string>& changes, bool dry,
                              core::MonoTime detected_at, const std::string& reason) {
  const auto& key = w.key;
  if (o.pruned_to) apply_pruned(w, o.pruned_from, o.pruned_to, o.pruned);
  if (o.committed && o.assessment) {
    const bool ok = o.verify_problems.empty();
    // An operator's repair: the drift it repaired was last written by the table's last writer.
    w.drift_writer = writer_of(key);
    w.drift_writer_label = writer_labels_.label(w.drift_writer);
    metrics_.repair(key.backend, key.family, key.table, ok ? "applied" : "verify_failed",
                    w.drift_writer_label);
    metrics_.repair_duration(key.backend, key.family, seconds(o.committed_at - detected_at));
    ++w.repairs;
    ++repairs_total_;
    w.last_repair = d_.clock.wall_now();
    w.last_repair_result = ok ? "applied" : "verify_failed";
    w.last_changes = changes;
    std::vector<core::LogField> fields = {{"table", key.str()},
                                          {"trigger", "rpc"},
                                          {"reason", reason},
                                          {"kinds", join(kinds_of(o.assessment->drift), ",")},
                                          {"chains", join(o.plan.chain_names(), ",")},
                                          {"rules_written", o.plan.rules_written()},
                                          {"changes", join(changes, " | ", 12)},
                                          {"result", w.last_repair_result},
                                          {"path", to_string(o.path)},
                                          {"fallback", o.fallback}};
    add_writer_fields(fields, key.backend, w.drift_writer);
    d_.log.log(core::LogLevel::kInfo, "repair applied", fields);
    accept_snapshot(w, o.assessment->expected, true);
  } else if (dry && !o.plan.empty()) {
    d_.log.info("netfilter dry-run: would apply",
                {{"table", key.str()}, {"trigger", "rpc"}, {"restore", o.restore_text}});
  }
}

}  // namespace ng::netfilter
