// The worker side of a repair (RepairJob): lock, re-read if needed, assess, plan, write, read
// back and verify. Runs off the loop and touches nothing of the guard.
#include "netfilter/guard_repair_job.h"

#include "netfilter/guard_internal.h"
#include "netfilter/repair_plan.h"
#include "netfilter/save_codec.h"

namespace ng::netfilter {

namespace {

using guard_detail::join;

// After a committed write: when, the change token, the read-back and what it lacks.
void commit_done(RepairJob& j, RepairOutcome& o, const Assessment& a, WritePath path) {
  o.committed = true;
  o.path = path;
  o.committed_at = j.clock->now();
  if (auto t = j.backend->change_token(j.key.family, j.key.table)) o.token_after = *t;
  auto back = j.backend->read(j.key.family, j.key.table);
  if (back) {
    o.verify_problems = verify_applied(a.expected, *back, *j.policy, j.restore_policies);
    o.after = std::move(*back);
  } else {
    o.verify_problems.push_back("read back failed: " + back.error().message);
    o.after.reset();
  }
}

// Whether the built-in chains of two tables hold the same rules apart from guarded jumps.
bool same_unowned(const Table& a, const Table& b, const GuardPolicy& policy) {
  ChainIndex bi(b);
  for (const auto& ca : a.chains) {
    if (!ca.builtin()) continue;
    const Chain* cb = bi.find(ca.name);
    std::vector<std::string_view> x, y;
    for (const auto& r : ca.rules) {
      if (!policy.is_guarded_jump(a.name, r)) x.push_back(r.spec);
    }
    if (cb) {
      for (const auto& r : cb->rules) {
        if (!policy.is_guarded_jump(b.name, r)) y.push_back(r.spec);
      }
    }
    if (x != y) return false;
  }
  return true;
}

// Takes the xtables lock and drops the check's read (and its assessment) when the table moved
// since. False when the lock could not be had (o.error says why).
bool lock_and_recheck(RepairJob& j, RepairOutcome& o, std::optional<XtablesLock::Held>& held) {
  auto h = j.lock.acquire(j.lock_timeout);
  if (!h) {
    o.error = h.error();
    return false;
  }
  held.emplace(std::move(*h));
  if (j.current && j.token) {
    auto now = j.backend->change_token(j.key.family, j.key.table);
    if (!now || *now != *j.token) j.current.reset();
  } else {
    j.current.reset();
  }
  if (!j.current) j.assessed.reset();
  return true;
}

// The check's assessment when it still holds, else a fresh one (which may prune the snapshot).
Assessment assess_job(RepairJob& j, RepairOutcome& o) {
  std::optional<Assessment> fresh;
  if (!j.assessed) {
    auto before = j.snapshot;
    fresh =
        assess_trusted(*j.current, j.snapshot, j.contributed, *j.policy, j.opts, j.trust, o.pruned);
    if (j.snapshot != before) {
      if (!o.pruned_from) o.pruned_from = before;
      o.pruned_to = j.snapshot;
    }
  }
  Assessment a = j.assessed ? std::move(*j.assessed) : std::move(*fresh);
  j.assessed.reset();
  return a;
}

// A fast write that does not read back as planned is redone through the tools in this repair,
// planned from the read-back toward the same expected table (the unowned rules of the built-in
// chains must be as they were, which is what the plan assumes).
void redo_unverified(RepairJob& j, RepairOutcome& o, const Assessment& a, WritePath path) {
  TablePlan redo;
  if (!o.verify_problems.empty() && path == WritePath::kNetlink && o.after &&
      same_unowned(a.expected, *o.after, *j.policy)) {
    redo = plan_repair(a.expected, *o.after, *j.policy, j.restore_policies);
  }
  if (redo.empty()) {
    o.writes.emplace_back(path, o.verify_problems.empty() ? "ok" : "verify_failed");
    return;
  }
  o.writes.emplace_back(path, "verify_failed");
  o.fallback = "read-back after the netlink batch differs: " + join(o.verify_problems, "; ");
  WriteReport w2 = j.backend->write(j.key.family, redo, WriteOptions{false});
  if (!w2.status) {
    o.error = w2.status.error();
    o.writes.emplace_back(w2.path, "failed");
  } else {
    commit_done(j, o, a, w2.path);
    o.writes.emplace_back(w2.path, o.verify_problems.empty() ? "ok" : "verify_failed");
  }
}

// Writes o.plan. False when the table moved under the write and another try from a fresh read
// is due.
bool write_plan(RepairJob& j, RepairOutcome& o, const Assessment& a, int attempt) {
  WriteReport w = j.backend->write(j.key.family, o.plan, WriteOptions{attempt < 2});
  if (!w.fast_declined.empty()) {
    o.writes.emplace_back(WritePath::kNetlink, "declined");
    o.fallback = "fast path declined: " + w.fast_declined;
  }
  if (!w.fast_failed.empty()) {
    o.writes.emplace_back(WritePath::kNetlink, "failed");
    o.fallback = "fast path failed: " + w.fast_failed;
  }
  if (!w.status) {
    o.error = w.status.error();
    o.writes.emplace_back(w.path, "failed");
    if (w.path == WritePath::kNetlink) o.fallback = "fast path: " + w.status.error().message;
    return !(w.status.error().kind == core::EnvErrorKind::kUnavailable && attempt < 2);
  }
  commit_done(j, o, a, w.path);
  redo_unverified(j, o, a, w.path);
  return true;
}

}  // namespace

RepairOutcome run_repair_job(RepairJob& j) {
  RepairOutcome o;
  std::optional<XtablesLock::Held> held;
  if (!j.dry_run && !lock_and_recheck(j, o, held)) return o;
  // A legacy commit is refused (EAGAIN) when the table changed since libiptc's snapshot, and
  // an nft batch when the generation moved since the read: re-read, re-plan and commit again,
  // a few times; the last try goes through the tools, which need no pinned generation.
  for (int attempt = 0;; ++attempt) {
    if (!j.current) {
      auto r = j.backend->read(j.key.family, j.key.table);
      if (!r) {
        o.error = r.error();
        return o;
      }
      j.current = std::move(*r);
    }
    Assessment a = assess_job(j, o);
    o.plan = plan_repair(a.expected, *j.current, *j.policy, j.restore_policies);
    o.error.reset();
    if (!j.dry_run && !o.plan.empty() && !write_plan(j, o, a, attempt)) {
      j.current.reset();
      continue;
    }
    // Rendered after the commit: only logs and the RPC read it, and at 10,000 rules it costs
    // a few milliseconds that need not sit between detection and repair.
    o.restore_text = o.plan.empty() ? std::string() : render_restore(o.plan);
    o.assessment = std::move(a);
    return o;
  }
}

}  // namespace ng::netfilter
