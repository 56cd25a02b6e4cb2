#include "netfilter/guard.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "netfilter/repair_plan.h"
#include "netfilter/save_codec.h"

namespace ng::netfilter {

namespace {

constexpr char kComponent[] = "netfilter";

std::string join(const std::vector<std::string>& v, std::string_view sep, size_t max = 20) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < max; ++i) {
    if (i) out += sep;
    out += v[i];
  }
  if (v.size() > max) out += std::string(sep) + "... (" + std::to_string(v.size() - max) + " more)";
  return out;
}

std::vector<std::string> kinds_of(const std::vector<DriftFinding>& drift) {
  std::vector<std::string> out;
  for (const auto& f : drift) {
    std::string k(to_string(f.kind));
    if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
  }
  return out;
}

std::vector<std::string> chains_of(const std::vector<DriftFinding>& drift) {
  std::vector<std::string> out;
  for (const auto& f : drift) {
    if (!f.chain.empty() && std::find(out.begin(), out.end(), f.chain) == out.end()) {
      out.push_back(f.chain);
    }
  }
  return out;
}

// Same guarded content (chains, rule specs, policies), whatever the chain order.
bool same_content(const Table& a, const Table& b) {
  if (a.chains.size() != b.chains.size()) return false;
  ChainIndex bi(b);
  for (const auto& ca : a.chains) {
    const Chain* cb = bi.find(ca.name);
    if (!cb || cb->policy != ca.policy || cb->rules.size() != ca.rules.size()) return false;
    for (size_t i = 0; i < ca.rules.size(); ++i) {
      if (ca.rules[i].spec != cb->rules[i].spec) return false;
    }
  }
  return true;
}

// The first difference between two snapshots, in words (debug logs).
std::string first_difference(const Table& a, const Table& b) {
  ChainIndex bi(b);
  for (const auto& ca : a.chains) {
    const Chain* cb = bi.find(ca.name);
    if (!cb) return "chain " + ca.name + " is new";
    if (cb->policy != ca.policy)
      return "policy of " + ca.name + " " + cb->policy + " -> " + ca.policy;
    if (cb->rules.size() != ca.rules.size()) {
      return ca.name + " has " + std::to_string(ca.rules.size()) + " rules, was " +
             std::to_string(cb->rules.size());
    }
    for (size_t i = 0; i < ca.rules.size(); ++i) {
      if (ca.rules[i].spec != cb->rules[i].spec)
        return ca.name + " rule " + std::to_string(i + 1) + " changed";
    }
  }
  ChainIndex ai(a);
  for (const auto& cb : b.chains) {
    if (!ai.find(cb.name)) return "chain " + cb.name + " is gone";
  }
  return "none";
}

double seconds(core::Duration d) {
  return std::chrono::duration<double>(d).count();
}

struct RepairJob {
  std::shared_ptr<Backend> backend;
  TableKey key;
  std::shared_ptr<const Table> snapshot;
  std::vector<ExpectedChain> contributed;
  AssessOptions opts;
  std::shared_ptr<const GuardPolicy> policy;
  bool dry_run = false;
  bool restore_policies = false;
  XtablesLock lock;
  std::chrono::milliseconds lock_timeout{5000};
  core::Clock* clock = nullptr;
  std::optional<Table> current;
  std::optional<std::uint64_t> token;
  // The check's assessment of `current` with the same snapshot, contributions and options:
  // used as is when the table did not move since (saves assessing 10,000 rules twice).
  std::optional<Assessment> assessed;
  TrustInput trust;
};

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

// Worker side of every repair: under the xtables lock, re-read when the table may have moved
// since the check, assess, plan, commit once, read back and verify.
RepairOutcome run_repair_job(RepairJob& j) {
  RepairOutcome o;
  const Family f = j.key.family;
  const std::string& table = j.key.table;
  std::optional<XtablesLock::Held> held;
  if (!j.dry_run) {
    auto h = j.lock.acquire(j.lock_timeout);
    if (!h) {
      o.error = h.error();
      return o;
    }
    held.emplace(std::move(*h));
    if (j.current && j.token) {
      auto now = j.backend->change_token(f, table);
      if (!now || *now != *j.token) j.current.reset();
    } else {
      j.current.reset();
    }
    if (!j.current) j.assessed.reset();
  }
  // A legacy commit is refused (EAGAIN) when the table changed since libiptc's snapshot, and
  // an nft batch when the generation moved since the read: re-read, re-plan and commit again,
  // a few times; the last try goes through the tools, which need no pinned generation.
  for (int attempt = 0;; ++attempt) {
    if (!j.current) {
      auto r = j.backend->read(f, table);
      if (!r) {
        o.error = r.error();
        return o;
      }
      j.current = std::move(*r);
    }
    std::optional<Assessment> fresh;
    if (!j.assessed) {
      auto before = j.snapshot;
      fresh = assess_trusted(*j.current, j.snapshot, j.contributed, *j.policy, j.opts, j.trust,
                             o.pruned);
      if (j.snapshot != before) {
        if (!o.pruned_from) o.pruned_from = before;
        o.pruned_to = j.snapshot;
      }
    }
    Assessment a = j.assessed ? std::move(*j.assessed) : std::move(*fresh);
    j.assessed.reset();
    o.plan = plan_repair(a.expected, *j.current, *j.policy, j.restore_policies);
    o.error.reset();
    if (!j.dry_run && !o.plan.empty()) {
      WriteReport w = j.backend->write(f, o.plan, WriteOptions{attempt < 2});
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
        if (w.status.error().kind == core::EnvErrorKind::kUnavailable && attempt < 2) {
          j.current.reset();
          continue;
        }
      } else {
        commit_done(j, o, a, w.path);
        // A fast write that does not read back as planned is redone through the tools in this
        // repair, planned from the read-back toward the same expected table (the unowned rules
        // of the built-in chains must be as they were, which is what the plan assumes).
        TablePlan redo;
        if (!o.verify_problems.empty() && w.path == WritePath::kNetlink && o.after &&
            same_unowned(a.expected, *o.after, *j.policy)) {
          redo = plan_repair(a.expected, *o.after, *j.policy, j.restore_policies);
        }
        if (!redo.empty()) {
          o.writes.emplace_back(w.path, "verify_failed");
          o.fallback =
              "read-back after the netlink batch differs: " + join(o.verify_problems, "; ");
          WriteReport w2 = j.backend->write(f, redo, WriteOptions{false});
          if (!w2.status) {
            o.error = w2.status.error();
            o.writes.emplace_back(w2.path, "failed");
          } else {
            commit_done(j, o, a, w2.path);
            o.writes.emplace_back(w2.path, o.verify_problems.empty() ? "ok" : "verify_failed");
          }
        } else {
          o.writes.emplace_back(w.path, o.verify_problems.empty() ? "ok" : "verify_failed");
        }
      }
    }
    // Rendered after the commit: only logs and the RPC read it, and at 10,000 rules it costs
    // a few milliseconds that need not sit between detection and repair.
    o.restore_text = o.plan.empty() ? std::string() : render_restore(o.plan);
    o.assessment = std::move(a);
    return o;
  }
}

void record_writes(GuardMetrics& m, const TableKey& k, const RepairOutcome& o) {
  for (const auto& [path, result] : o.writes) m.commit(k.backend, k.family, path, result);
}

}  // namespace

std::string TableKey::str() const {
  return std::string(to_string(backend)) + "/" + std::string(to_string(family)) + "/" + table;
}
bool TableKey::operator<(const TableKey& o) const {
  return std::tie(backend, family, table) < std::tie(o.backend, o.family, o.table);
}
bool TableKey::operator==(const TableKey& o) const {
  return backend == o.backend && family == o.family && table == o.table;
}

struct Guard::Watch {
  TableKey key;
  std::shared_ptr<Backend> backend;
  std::shared_ptr<const Table> snapshot = std::make_shared<Table>();
  bool have_snapshot = false;
  bool canary_expected = false;
  enum class Busy { kIdle, kChecking, kRepairing } busy = Busy::kIdle;
  bool rerun = false;
  std::string rerun_trigger;
  core::MonoTime rerun_detected{};
  std::optional<std::uint64_t> last_token;
  // For the view.
  std::string state = "unknown";
  size_t guarded_rules = 0;
  size_t guarded_chains = 0;
  bool canary_present = false;
  std::optional<core::WallTime> last_check;
  std::optional<core::WallTime> last_repair;
  std::string last_repair_result;
  std::vector<std::string> last_changes;
  std::vector<DriftFinding> last_drift;
  std::vector<DriftFinding> reports;
  std::string last_error;
  std::uint64_t repairs = 0;
  bool error = false;
  bool repair_failing = false;
  // Fight detection.
  std::string last_sig;
  core::MonoTime last_repair_at{};
  int repeats = 0;
  bool waiting = false;
  core::MonoTime next_allowed{};
  core::Duration backoff{0};
  bool fighting = false;
  std::unique_ptr<core::Timer> timer;  // backoff and retry
  std::unique_ptr<core::Timer> settle_timer;
  std::optional<core::MonoTime> drift_since;  // partial drift first seen, waiting for grace
  // Persistence.
  bool persist_in_flight = false;
  bool persist_again = false;
  bool persist_failed = false;  // the last write of this snapshot failed
  // Last confirmed against the table (wall clock): what the file's taken= says.
  std::optional<core::WallTime> snapshot_taken;
  std::optional<core::WallTime> persisted_taken;
  // Foreign rules and forgotten entries.
  std::vector<ForeignRule> foreign;
  size_t foreign_total = 0;
  std::set<std::string> foreign_seen;  // "chain\nspec" of the foreign rules already told
  std::vector<ForgetEntry> forgotten;  // kept out of the snapshot while still in the table
};

Guard::Guard(GuardOptions options, std::vector<std::shared_ptr<Backend>> backends, Deps deps,
             std::unique_ptr<ChangeSource> nft_events)
    : opt_(std::move(options)),
      policy_(std::make_shared<GuardPolicy>(opt_.policy)),
      backends_(std::move(backends)),
      d_(std::move(deps)),
      metrics_(d_.metrics),
      lock_(opt_.lock_path),
      nft_events_(std::move(nft_events)),
      trust_(opt_.snapshot_max_age, opt_.pod_vouchers_wait, d_.metrics) {}

Guard::~Guard() {
  alive_.reset();
}

Guard::Watch* Guard::find(const TableKey& k) {
  auto it = watches_.find(k);
  return it == watches_.end() ? nullptr : it->second.get();
}

void Guard::start() {
  if (phase_ != Phase::kStopped || !opt_.enabled) return;
  phase_ = Phase::kStarting;
  alive_ = std::make_shared<bool>(true);
  d_.log.info("netfilter guard starting", {{"backend", opt_.backend_mode},
                                           {"tables", join(policy_->tables(), ",")},
                                           {"dry_run", opt_.dry_run},
                                           {"lock", lock_.path()}});
  // Detection and snapshot loading read tables and files: a worker's job.
  d_.workers.post([this, alive = std::weak_ptr<bool>(alive_), backends = backends_,
                   policy = policy_, opt = opt_, &files = d_.files, &loop = d_.loop] {
    std::vector<BackendProbe> probes;
    std::map<std::pair<BackendKind, Family>, bool> usable;
    for (const auto& b : backends) {
      BackendProbe p;
      p.kind = b->kind();
      for (Family f : opt.families) {
        if (!b->available(f)) continue;
        usable[{b->kind(), f}] = true;
        p.available = true;
        if (opt.backend_mode != "auto") continue;
        if (auto m = b->read(f, "mangle"); m && has_backend_hint(*m)) p.hint = true;
        for (const auto& t : policy->tables()) {
          auto r = b->read(f, t);
          if (!r) continue;
          p.rules += r->rule_count();
          p.guarded_rules += policy->guarded_rule_count(policy->project(*r));
        }
      }
      probes.push_back(p);
    }
    BackendChoice choice = choose_backends(opt.backend_mode, probes);
    // A kill -9 in the middle of a snapshot write leaves its temp file behind.
    if (!opt.snapshot_dir.empty()) (void)core::remove_stale_temp_files(files, opt.snapshot_dir);
    std::map<TableKey, LoadedSnapshot> loaded;
    std::vector<std::string> dropped;
    for (BackendKind k : choice.watch) {
      for (Family f : opt.families) {
        if (!usable[{k, f}]) continue;
        for (const auto& t : policy->tables()) {
          if (opt.snapshot_dir.empty()) continue;
          const std::string path = opt.snapshot_dir + "/" + snapshot_file_name(k, f, t);
          auto text = files.read(path);
          if (!text) continue;
          auto snap = decode_snapshot(*text);
          if (!snap) {
            dropped.push_back(path + ": " + snap.error().message);
          } else if (snap->header.identity != opt.identity || snap->header.backend != k ||
                     snap->header.family != f || snap->header.table != t) {
            dropped.push_back(path + ": taken in another boot or namespace");
          } else {
            loaded[TableKey{k, f, t}] = std::move(*snap);
          }
        }
      }
    }
    // Families a chosen backend cannot serve get no watch.
    for (auto it = choice.watch.begin(); it != choice.watch.end();) {
      bool any = false;
      for (Family f : opt.families) any = any || usable[{*it, f}];
      it = any ? std::next(it) : choice.watch.erase(it);
    }
    loop.post([this, alive, choice = std::move(choice), loaded = std::move(loaded),
               dropped = std::move(dropped), usable]() mutable {
      if (alive.expired() || phase_ != Phase::kStarting) return;
      for (const auto& d : dropped) d_.log.warn("netfilter snapshot discarded", {{"file", d}});
      // Keep only usable families in the watch set.
      std::map<TableKey, LoadedSnapshot> keep;
      for (auto& [k, v] : loaded) keep.emplace(k, std::move(v));
      usable_ = std::move(usable);
      on_detected(std::move(choice), std::move(keep));
    });
  });
}

void Guard::on_detected(BackendChoice choice, std::map<TableKey, LoadedSnapshot> loaded) {
  choice_backends_ = choice.watch;
  choice_why_ = choice.why;
  phase_ = Phase::kRunning;
  if (choice.watch.empty()) {
    report_env_error(core::EnvError{core::EnvErrorKind::kMissingBinary,
                                    "no usable iptables backend (" + choice.why + ")"});
  }
  for (const auto& b : backends_) {
    for (Family f : opt_.families) {
      const bool on =
          std::find(choice.watch.begin(), choice.watch.end(), b->kind()) != choice.watch.end() &&
          usable_[{b->kind(), f}];
      metrics_.backend_info(b->kind(), f, opt_.backend_mode, on);
      if (!on) continue;
      for (const auto& t : policy_->tables()) {
        auto w = std::make_unique<Watch>();
        w->key = TableKey{b->kind(), f, t};
        w->backend = b;
        w->timer = d_.clock.make_timer();
        w->settle_timer = d_.clock.make_timer();
        if (auto it = loaded.find(w->key); it != loaded.end()) {
          w->snapshot = std::make_shared<Table>(std::move(it->second.table));
          w->have_snapshot = true;
          w->canary_expected = it->second.header.canary;
          w->snapshot_taken = w->persisted_taken = it->second.header.taken_at;
          w->guarded_rules = policy_->guarded_rule_count(*w->snapshot);
          w->guarded_chains = policy_->guarded_chain_count(*w->snapshot);
          d_.log.info("netfilter snapshot loaded",
                      {{"table", w->key.str()}, {"guarded_rules", w->guarded_rules}});
        }
        watches_[w->key] = std::move(w);
      }
    }
  }
  std::vector<std::string> names;
  for (auto k : choice.watch) names.emplace_back(to_string(k));
  d_.log.info("netfilter guard running",
              {{"backends", join(names, ",")}, {"why", choice.why}, {"tables", watches_.size()}});
  const bool watch_nft =
      std::find(choice.watch.begin(), choice.watch.end(), BackendKind::kNft) != choice.watch.end();
  if (watch_nft && nft_events_) {
    auto st = nft_events_->start(
        [this](Family f, const std::string& t) { notify_changed(BackendKind::kNft, f, t); },
        [this](bool certain) { notify_events_lost(BackendKind::kNft, certain); });
    if (st) {
      nft_events_running_ = true;
    } else {
      d_.log.warn("nftables notifications unavailable; polling the generation id instead",
                  {{"error", st.error().message}});
      report_env_error(st.error());
    }
  }
  const auto now = d_.clock.now();
  holding_ = hold_for_vouchers(!loaded.empty());
  if (!holding_) {
    for (auto& [k, w] : watches_) start_check(*w, "start", now);
  }
  arm_poll();
  arm_verify();
}

void Guard::stop() {
  if (phase_ == Phase::kStopped) return;
  phase_ = Phase::kStopped;
  alive_.reset();
  if (poll_timer_) poll_timer_->cancel();
  if (verify_timer_) verify_timer_->cancel();
  if (nft_events_running_) nft_events_->stop();
  nft_events_running_ = false;
  for (auto& [k, w] : watches_) {
    w->timer->cancel();
    w->settle_timer->cancel();
  }
  d_.log.info("netfilter guard stopped");
}

std::vector<ExpectedChain> Guard::contributions(const TableKey& k) const {
  std::vector<ExpectedChain> out;
  for (const auto& [id, p] : providers_) {
    auto chains = p.second(k.backend, k.family, k.table);
    for (auto& c : chains) {
      for (auto& r : c.chain.rules) {
        if (r.target.empty() && r.comment.empty()) (void)parse_rule_fields(r);
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

AssessOptions Guard::assess_options(const Watch& w) const {
  AssessOptions o;
  o.canary_expected = w.canary_expected;
  o.want_canary = !opt_.dry_run;
  o.restore_policies = opt_.restore_policies;
  o.unvouched = unvouched(w);
  return o;
}

void Guard::start_check(Watch& w, std::string_view trigger, core::MonoTime detected_at) {
  if (phase_ != Phase::kRunning || holding_) return;
  if (w.busy != Watch::Busy::kIdle) {
    if (!w.rerun || detected_at < w.rerun_detected) {
      w.rerun_detected = detected_at;
      w.rerun_trigger = std::string(trigger);
    }
    w.rerun = true;
    return;
  }
  w.busy = Watch::Busy::kChecking;
  const bool skip_if_unchanged = trigger == "verify" && w.backend->kind() == BackendKind::kNft;
  d_.workers.post([this, alive = std::weak_ptr<bool>(alive_), backend = w.backend, key = w.key,
                   snapshot = w.snapshot, contributed = contributions(w.key),
                   opts = assess_options(w), policy = policy_, last = w.last_token,
                   skip_if_unchanged, trigger = std::string(trigger), detected_at,
                   trust = trust_.input(w.snapshot_taken, d_.clock.wall_now()),
                   &loop = d_.loop]() mutable {
    std::optional<std::uint64_t> token;
    if (auto t = backend->change_token(key.family, key.table)) token = *t;
    if (skip_if_unchanged && token && last && *token == *last) {
      loop.post([this, alive, key] {
        if (alive.expired()) return;
        if (Watch* w = find(key)) {
          w->busy = Watch::Busy::kIdle;
          w->last_check = d_.clock.wall_now();
          finish(*w);
        }
      });
      return;
    }
    auto read = backend->read(key.family, key.table);
    std::optional<Assessment> a;
    std::shared_ptr<const Table> unpruned = snapshot;
    std::vector<PrunedEntry> pruned;
    if (read) a = assess_trusted(*read, snapshot, contributed, *policy, opts, trust, pruned);
    if (snapshot == unpruned) unpruned.reset();
    loop.post(
        [this, alive, key, read = std::move(read), a = std::move(a), token, trigger, detected_at,
         basis = CheckBasis{std::move(snapshot), std::move(contributed), opts, std::move(policy),
                            std::move(unpruned), std::move(pruned)}]() mutable {
          if (alive.expired()) return;
          if (Watch* w = find(key)) {
            on_checked(*w, std::move(read), std::move(a), token, std::move(trigger), detected_at,
                       std::move(basis));
          }
        });
  });
  metrics_.check(w.key.backend, w.key.family, trigger);
}

void Guard::report_error(Watch& w, const core::EnvError& e, std::string_view what) {
  w.error = true;
  w.last_error = std::string(what) + ": " + e.message;
  w.state = "error";
  report_env_error(core::EnvError{e.kind, w.key.str() + " " + w.last_error});
  // Try again later even without a change signal. Waiting for a busy xtables lock counts
  // toward the retry interval: with the default timeouts the next attempt waits for the lock
  // again at once, so the repair lands as soon as the other writer lets go.
  core::Duration delay = opt_.retry_interval;
  if (e.kind == core::EnvErrorKind::kLockBusy) {
    delay = std::max<core::Duration>(opt_.retry_interval - opt_.lock_timeout, core::Duration{0});
  }
  w.timer->arm(delay, [this, k = w.key] {
    if (Watch* x = find(k)) start_check(*x, "retry", d_.clock.now());
  });
}

void Guard::report_env_error(const core::EnvError& e) {
  d_.env_errors.report(kComponent, e);
  env_error_ = true;
}

void Guard::maybe_recovered() {
  if (!env_error_ || !persist_error_.empty()) return;
  for (const auto& [k, w] : watches_) {
    if (w->error) return;
  }
  if (choice_backends_.empty()) return;
  env_error_ = false;
  d_.env_errors.recovered(kComponent);
}

void Guard::on_checked(Watch& w, core::Result<Table> read, std::optional<Assessment> a,
                       std::optional<std::uint64_t> token, std::string trigger,
                       core::MonoTime detected_at, CheckBasis basis) {
  w.busy = Watch::Busy::kIdle;
  w.last_check = d_.clock.wall_now();
  if (!read) {
    metrics_.read_error(w.key.backend, w.key.family, w.key.table,
                        core::to_string(read.error().kind));
    report_error(w, read.error(), "read");
    finish(w);
    return;
  }
  if (w.error) {
    w.error = false;
    w.last_error.clear();
    maybe_recovered();
  }
  w.last_token = token;
  if (basis.unpruned) apply_pruned(w, basis.unpruned, basis.snapshot, basis.pruned);
  Assessment& A = *a;
  w.canary_present = A.canary_present;
  if (A.canary_present) w.canary_expected = true;
  w.reports = A.reports;
  note_foreign(w, A);
  prune_forgotten(w, *read);
  const bool has_guarded =
      policy_->guarded_rule_count(A.expected) > 0 || policy_->guarded_chain_count(A.expected) > 0;
  const bool need_canary = has_guarded && !A.canary_present && !opt_.dry_run;

  if (!w.have_snapshot) {
    w.have_snapshot = true;
    w.state = "ok";
    if (!A.has_drift()) {
      accept_snapshot(w, A.expected, A.canary_present);
      if (need_canary) {
        start_repair(w, std::move(*read), token, detected_at, "setup", true);
        return;
      }
      finish(w);
      return;
    }
    // Against an empty snapshot only contributed rules can be missing (a first start on a node
    // whose hostPort rules are gone): the table as it is becomes the snapshot, and the missing
    // contributions are drift like any other (grace, events, one commit).
    accept_snapshot(w, policy_->project(*read), A.canary_present);
  } else if (!A.has_drift()) {
    if (w.drift_since) {
      w.drift_since.reset();
      w.settle_timer->cancel();
      d_.log.debug("netfilter partial change settled without drift", {{"table", w.key.str()}});
    }
    std::optional<Table> kept;  // what the snapshot would keep: forgotten entries left out
    if (!w.forgotten.empty()) strip_forgotten(w, kept.emplace(A.expected));
    if (!same_content(kept ? *kept : A.expected, *w.snapshot)) {
      metrics_.accepted(w.key.backend, w.key.family, w.key.table);
      d_.log.info("netfilter snapshot updated",
                  {{"table", w.key.str()},
                   {"changes", A.accepted.empty() ? first_difference(A.expected, *w.snapshot)
                                                  : join(A.accepted, "; ", 10)}});
      accept_snapshot(w, A.expected, A.canary_present);
    }
    confirm_snapshot(w);
    if (w.fighting && d_.clock.now() - w.last_repair_at >
                          std::max<core::Duration>(opt_.fight_window, 2 * w.backoff)) {
      w.fighting = false;
      w.backoff = core::Duration{0};
      w.repeats = 0;
      w.waiting = false;
      d_.log.info("netfilter fight over", {{"table", w.key.str()}});
    }
    w.state = "ok";
    if (need_canary) {
      start_repair(w, std::move(*read), token, detected_at, "setup", true);
      return;
    }
    finish(w);
    return;
  }

  // Drift. A partial change gets drift_grace to settle (an owner's multi-step change).
  if (!A.flush && opt_.drift_grace.count() > 0) {
    const auto now = d_.clock.now();
    if (!w.drift_since) {
      w.drift_since = now;
      w.state = "drift";
      d_.log.debug("netfilter partial change; waiting for it to settle",
                   {{"table", w.key.str()}, {"drift", A.signature}});
      w.settle_timer->arm(opt_.drift_grace, [this, k = w.key, detected_at] {
        if (Watch* x = find(k)) start_check(*x, "settle", detected_at);
      });
      finish(w);
      return;
    }
    if (now - *w.drift_since < opt_.drift_grace) {
      finish(w);
      return;
    }
    detected_at = std::min(detected_at, *w.drift_since);
  }
  w.drift_since.reset();
  w.settle_timer->cancel();
  w.last_drift = A.drift;
  w.state = "drift";
  for (const auto& k : kinds_of(A.drift)) {
    for (const auto& f : A.drift) {
      if (to_string(f.kind) == k) {
        metrics_.drift(w.key.backend, w.key.family, w.key.table, f.kind);
        break;
      }
    }
  }
  const auto kinds = join(kinds_of(A.drift), ",");
  const auto chains = join(chains_of(A.drift), ",");
  d_.log.warn("netfilter drift", {{"table", w.key.str()},
                                  {"kinds", kinds},
                                  {"chains", chains},
                                  {"flush", A.flush},
                                  {"detail", A.flush ? A.drift.front().detail : A.signature},
                                  {"trigger", trigger}});
  d_.health.record_event(
      core::HealthEvent{kComponent,
                        "NetfilterDrift",
                        A.flush ? "Guarded iptables chains were flushed in " + w.key.str() + " (" +
                                      A.drift.front().detail + ")"
                                : "Guarded iptables rules changed in " + w.key.str() + ": " + kinds,
                        core::Severity::kWarning,
                        {{"table", w.key.table},
                         {"family", std::string(to_string(w.key.family))},
                         {"backend", std::string(to_string(w.key.backend))},
                         {"kinds", kinds},
                         {"chains", chains}}});

  if (!A.flush) {
    const auto now = d_.clock.now();
    const bool same = !w.last_sig.empty() && A.signature == w.last_sig &&
                      now - w.last_repair_at <= opt_.fight_window + w.backoff;
    if (!same) {
      w.repeats = 1;
      w.waiting = false;
      w.backoff = core::Duration{0};
      w.fighting = false;
    } else if (!w.waiting) {
      ++w.repeats;
    }
    if (w.repeats > opt_.fight_threshold) {
      if (!w.waiting) {
        w.backoff = w.backoff.count() == 0 ? opt_.backoff_initial
                                           : std::min(2 * w.backoff, opt_.backoff_max);
        w.waiting = true;
        w.next_allowed = now + w.backoff;
        const bool news = !w.fighting;
        w.fighting = true;
        w.state = "backoff";
        d_.log.warn("netfilter fight: backing off",
                    {{"table", w.key.str()},
                     {"repeats", w.repeats},
                     {"backoff_ms",
                      std::chrono::duration_cast<std::chrono::milliseconds>(w.backoff).count()},
                     {"drift", A.signature}});
        if (news) {
          d_.health.record_event(
              core::HealthEvent{kComponent,
                                "NetfilterFightDetected",
                                "Another writer keeps removing the same guarded rules in " +
                                    w.key.str() + "; repairs now back off",
                                core::Severity::kWarning,
                                {{"table", w.key.table},
                                 {"family", std::string(to_string(w.key.family))},
                                 {"backend", std::string(to_string(w.key.backend))},
                                 {"chains", chains}}});
        }
        w.timer->arm(w.backoff, [this, k = w.key] {
          if (Watch* x = find(k)) start_check(*x, "backoff", d_.clock.now());
        });
        finish(w);
        return;
      }
      if (now < w.next_allowed) {
        w.state = "backoff";
        finish(w);
        return;
      }
      w.waiting = false;  // the backoff is over: repair once more
    }
  }
  start_repair(w, std::move(*read), token, detected_at, std::move(trigger), false, std::move(A),
               &basis);
}

void Guard::start_repair(Watch& w, Table current, std::optional<std::uint64_t> token,
                         core::MonoTime detected_at, std::string trigger, bool setup,
                         std::optional<Assessment> assessed, const CheckBasis* basis) {
  w.busy = Watch::Busy::kRepairing;
  if (!setup) w.state = "repairing";
  RepairJob job;
  job.backend = w.backend;
  job.key = w.key;
  job.snapshot = w.snapshot;
  job.contributed = contributions(w.key);
  job.opts = assess_options(w);
  job.policy = policy_;
  job.dry_run = opt_.dry_run;
  job.restore_policies = opt_.restore_policies;
  job.lock = lock_;
  job.lock_timeout = opt_.lock_timeout;
  job.clock = &d_.clock;
  job.current = std::move(current);
  job.token = token;
  job.trust = trust_.input(w.snapshot_taken, d_.clock.wall_now());
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
  const auto& k = w.key;
  record_writes(metrics_, k, o);
  if (o.pruned_to) apply_pruned(w, o.pruned_from, o.pruned_to, o.pruned);
  if (o.error) {
    if (!setup) {
      metrics_.repair(k.backend, k.family, k.table, "failed");
      w.last_repair_result = "failed";
      w.repair_failing = true;
      d_.health.record_event(
          core::HealthEvent{kComponent,
                            "NetfilterRepairFailed",
                            "Could not repair " + k.str() + ": " + o.error->message,
                            core::Severity::kError,
                            {{"table", k.table},
                             {"family", std::string(to_string(k.family))},
                             {"backend", std::string(to_string(k.backend))}}});
    }
    d_.log.error(setup ? "netfilter canary setup failed" : "netfilter repair failed",
                 {{"table", k.str()},
                  {"error", o.error->message},
                  {"path", to_string(o.path)},
                  {"fallback", o.fallback},
                  {"restore", o.restore_text}});
    report_error(w, *o.error, setup ? "canary setup" : "repair");
    finish(w);
    return;
  }
  Assessment& A = *o.assessment;
  note_foreign(w, A);
  if (o.token_after) w.last_token = o.token_after;  // our own commit is not news
  if (setup) {
    if (o.committed) {
      d_.log.info("netfilter canary chain created",
                  {{"table", k.str()}, {"chain", GuardPolicy::kCanary}});
      w.canary_expected = true;
      w.canary_present = true;
      accept_snapshot(w, A.expected, true);
    }
    finish(w);
    return;
  }
  const auto changes = o.plan.describe();
  if (opt_.dry_run) {
    metrics_.repair(k.backend, k.family, k.table, "dry_run");
    w.last_repair_result = "dry_run";
    w.last_changes = changes;
    d_.log.warn("netfilter dry-run: would apply", {{"table", k.str()},
                                                   {"kinds", join(kinds_of(A.drift), ",")},
                                                   {"changes", changes.size()},
                                                   {"restore", o.restore_text}});
    finish(w);
    return;
  }
  if (o.plan.empty()) {
    // Someone else put it back between our check and the lock.
    d_.log.info("netfilter drift gone before repair", {{"table", k.str()}});
    w.state = "ok";
    if (!A.has_drift()) accept_snapshot(w, A.expected, A.canary_present);
    finish(w);
    return;
  }
  const bool verified = o.verify_problems.empty();
  const std::string result = verified ? "applied" : "verify_failed";
  metrics_.repair(k.backend, k.family, k.table, result);
  const double took = seconds(o.committed_at - detected_at);
  metrics_.repair_duration(k.backend, k.family, took);
  ++w.repairs;
  ++repairs_total_;
  w.last_repair = d_.clock.wall_now();
  w.last_repair_result = result;
  w.last_changes = changes;
  w.repair_failing = !verified;
  w.last_repair_at = d_.clock.now();
  if (!A.flush && !A.signature.empty()) w.last_sig = A.signature;
  const auto kinds = join(kinds_of(A.drift), ",");
  const auto chains = join(o.plan.chain_names(), ",");
  d_.log.log(verified ? core::LogLevel::kInfo : core::LogLevel::kWarn, "repair applied",
             {{"table", k.str()},
              {"backend", to_string(k.backend)},
              {"family", to_string(k.family)},
              {"trigger", trigger},
              {"kinds", kinds},
              {"why", A.flush ? A.drift.front().detail : A.signature},
              {"chains", chains},
              {"rules_written", o.plan.rules_written()},
              {"changes", join(changes, " | ", 12)},
              {"detect_to_commit_ms", took * 1000.0},
              {"since_detect_ms", seconds(d_.clock.now() - detected_at) * 1000.0},
              {"result", result},
              {"path", to_string(o.path)},
              {"fallback", o.fallback},
              {"verify", join(o.verify_problems, "; ")}});
  d_.health.record_event(core::HealthEvent{
      kComponent,
      verified ? "NetfilterRepaired" : "NetfilterRepairUnverified",
      "Restored " + std::to_string(o.plan.rules_written()) + " guarded rules in " + k.str() +
          " after " + kinds +
          (verified ? "" : "; read-back differs: " + join(o.verify_problems, "; ")),
      verified ? core::Severity::kInfo : core::Severity::kWarning,
      {{"table", k.table},
       {"family", std::string(to_string(k.family))},
       {"backend", std::string(to_string(k.backend))},
       {"kinds", kinds},
       {"chains", chains}}});
  accept_snapshot(w, A.expected, true);
  w.state = verified ? "ok" : "drift";
  if (!verified) {
    w.timer->arm(opt_.retry_interval, [this, key = w.key] {
      if (Watch* x = find(key)) start_check(*x, "retry", d_.clock.now());
    });
  }
  finish(w);
}

void Guard::finish(Watch& w) {
  update_conditions();
  if (!listeners_.empty()) {
    const TableView v = table_view(w);
    for (const auto& [id, l] : listeners_) l(v);
  }
  if (w.rerun && w.busy == Watch::Busy::kIdle) {
    w.rerun = false;
    start_check(w, w.rerun_trigger, w.rerun_detected);
  }
}

void Guard::accept_snapshot(Watch& w, Table expected, bool canary_present) {
  strip_forgotten(w, expected);
  if (!canary_present && !opt_.dry_run) {
    // Not created yet; the next commit adds it.
  }
  w.guarded_rules = policy_->guarded_rule_count(expected);
  w.guarded_chains = policy_->guarded_chain_count(expected);
  metrics_.guarded(w.key.backend, w.key.family, w.key.table, w.guarded_rules, w.guarded_chains);
  w.snapshot = std::make_shared<const Table>(std::move(expected));
  w.snapshot_taken = d_.clock.wall_now();
  persist(w);
}

void Guard::persist(Watch& w) {
  if (opt_.snapshot_dir.empty() || opt_.dry_run) return;
  if (w.persist_in_flight) {
    w.persist_again = true;
    return;
  }
  w.persist_in_flight = true;
  SnapshotHeader h;
  h.backend = w.key.backend;
  h.family = w.key.family;
  h.table = w.key.table;
  h.identity = opt_.identity;
  h.canary = w.canary_expected;
  h.taken_at = w.persisted_taken = w.snapshot_taken;
  d_.workers.post([this, alive = std::weak_ptr<bool>(alive_), key = w.key, h, snapshot = w.snapshot,
                   dir = opt_.snapshot_dir, &files = d_.files, &loop = d_.loop] {
    core::Status st = files.make_dirs(dir);
    if (st)
      st = files.write_atomic(dir + "/" + snapshot_file_name(key.backend, key.family, key.table),
                              encode_snapshot(h, *snapshot));
    loop.post([this, alive, key, st] {
      if (alive.expired()) return;
      Watch* w = find(key);
      if (!w) return;
      w->persist_in_flight = false;
      w->persist_failed = !st;
      if (!st) {
        // A full or read-only state dir: keep guarding from memory; a restart would lose the
        // snapshot, so say so (log once, count, component degraded) until a write succeeds.
        if (persist_error_.empty()) {
          d_.log.warn("netfilter snapshot not persisted; guarding from memory",
                      {{"table", key.str()}, {"error", st.error().message}});
        }
        persist_error_ = st.error().message;
        report_env_error(
            core::EnvError{st.error().kind, "snapshot " + key.str() + ": " + st.error().message});
      } else if (!persist_error_.empty()) {
        // Writable again: write the snapshots that failed before; recovered when none is left.
        bool pending = false;
        for (auto& [k, x] : watches_) {
          if (!x->persist_failed) continue;
          pending = true;
          persist(*x);
        }
        if (!pending) {
          persist_error_.clear();
          d_.log.info("netfilter snapshot persisted again", {{"table", key.str()}});
          maybe_recovered();
        }
      }
      if (w->persist_again) {
        w->persist_again = false;
        persist(*w);
      }
    });
  });
}

bool Guard::polled(const TableKey& k) const {
  return k.backend == BackendKind::kLegacy || !nft_events_running_;
}

void Guard::arm_poll() {
  bool any = false;
  for (const auto& [k, w] : watches_) any = any || polled(k);
  if (!any || phase_ != Phase::kRunning) return;
  if (!poll_timer_) poll_timer_ = d_.clock.make_timer();
  poll_timer_->arm(opt_.poll_interval, [this] { poll(); });
}

void Guard::poll() {
  if (phase_ != Phase::kRunning) return;
  arm_poll();  // a fixed cadence; a poll still in flight makes this tick a no-op
  if (poll_in_flight_) return;
  std::vector<std::pair<TableKey, std::shared_ptr<Backend>>> targets;
  for (const auto& [k, w] : watches_) {
    if (polled(k)) targets.emplace_back(k, w->backend);
  }
  poll_in_flight_ = true;
  d_.workers.post([this, alive = std::weak_ptr<bool>(alive_), targets, &loop = d_.loop] {
    std::vector<std::pair<TableKey, std::optional<std::uint64_t>>> tokens;
    for (const auto& [k, b] : targets) {
      auto t = b->change_token(k.family, k.table);
      tokens.emplace_back(k, t ? std::optional<std::uint64_t>(*t) : std::nullopt);
    }
    loop.post([this, alive, tokens = std::move(tokens)] {
      if (alive.expired()) return;
      poll_in_flight_ = false;
      const auto now = d_.clock.now();
      for (const auto& [k, t] : tokens) {
        Watch* w = find(k);
        if (!w || !w->have_snapshot) continue;
        if (t != w->last_token) {
          d_.log.debug("netfilter change token moved", {{"table", k.str()}});
          start_check(*w, "poll", now);
        }
      }
    });
  });
}

void Guard::arm_verify() {
  if (phase_ != Phase::kRunning) return;
  if (!verify_timer_) verify_timer_ = d_.clock.make_timer();
  verify_timer_->arm(opt_.verify_interval, [this] { verify_all(); });
}

void Guard::verify_all() {
  const auto now = d_.clock.now();
  for (auto& [k, w] : watches_) {
    start_check(*w, "verify", now);
    if (w->persist_failed) persist(*w);  // the state dir may be writable again
  }
  arm_verify();
}

void Guard::request_check(std::string reason) {
  if (phase_ != Phase::kRunning) return;
  d_.log.debug("netfilter check requested", {{"reason", reason}});
  const auto now = d_.clock.now();
  for (auto& [k, w] : watches_) start_check(*w, "request", now);
}

void Guard::notify_changed(BackendKind backend, Family family, const std::string& table) {
  if (phase_ != Phase::kRunning) return;
  if (Watch* w = find(TableKey{backend, family, table})) {
    start_check(*w, "netlink", d_.clock.now());
  }
}

void Guard::notify_events_lost(BackendKind backend, bool certain) {
  if (certain) metrics_.events_lost(backend);
  if (phase_ != Phase::kRunning) return;
  if (certain) {
    d_.log.warn("netfilter change notifications lost; re-reading every table",
                {{"backend", to_string(backend)}});
  }
  const auto now = d_.clock.now();
  for (auto& [k, w] : watches_) {
    if (k.backend == backend) start_check(*w, certain ? "netlink" : "resume", now);
  }
}

void Guard::update_conditions() {
  std::vector<std::string> fighting, dropped, failing;
  for (const auto& [k, w] : watches_) {
    if (w->fighting) {
      fighting.push_back(
          k.str() + " (backoff " +
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(w->backoff).count()) +
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
    if (w->fighting) fighting.push_back(k.str());
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
  t.fighting = w.fighting;
  t.backoff = w.backoff;
  return t;
}

int Guard::add_expected_rules_provider(std::string name, ExpectedRulesProvider provider) {
  const int id = next_provider_++;
  providers_[id] = {std::move(name), std::move(provider)};
  return id;
}

void Guard::remove_expected_rules_provider(int id) {
  providers_.erase(id);
}

int Guard::add_table_listener(TableListener listener) {
  const int id = next_provider_++;
  listeners_[id] = std::move(listener);
  return id;
}

void Guard::remove_table_listener(int id) {
  listeners_.erase(id);
}

// Foreign rules: reported (log, event, condition, metric), never restored (assess() decides).
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
  struct Collect {
    std::vector<TableRepairResult> results;
    size_t pending = 0;
    std::function<void(std::vector<TableRepairResult>)> done;
  };
  auto c = std::make_shared<Collect>();
  c->pending = targets.size();
  c->done = std::move(done);
  const auto detected_at = d_.clock.now();
  for (Watch* w : targets) {
    RepairJob job;
    job.backend = w->backend;
    job.key = w->key;
    job.snapshot = w->snapshot;
    job.contributed = contributions(w->key);
    job.opts = assess_options(*w);
    job.policy = policy_;
    job.dry_run = dry;
    job.restore_policies = opt_.restore_policies;
    job.lock = lock_;
    job.lock_timeout = opt_.lock_timeout;
    job.clock = &d_.clock;
    job.trust = trust_.input(w->snapshot_taken, d_.clock.wall_now());
    d_.workers.post([this, alive = std::weak_ptr<bool>(alive_), job = std::move(job), c, dry,
                     detected_at, reason = req.reason, &loop = d_.loop]() mutable {
      RepairOutcome o = run_repair_job(job);
      loop.post([this, alive, key = job.key, o = std::move(o), c, dry, detected_at, reason] {
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
        if (!alive.expired()) {
          record_writes(metrics_, key, o);
          if (Watch* w = find(key)) {
            if (o.pruned_to) apply_pruned(*w, o.pruned_from, o.pruned_to, o.pruned);
            if (o.committed && o.assessment) {
              const bool ok = o.verify_problems.empty();
              metrics_.repair(key.backend, key.family, key.table, ok ? "applied" : "verify_failed");
              metrics_.repair_duration(key.backend, key.family,
                                       seconds(o.committed_at - detected_at));
              ++w->repairs;
              ++repairs_total_;
              w->last_repair = d_.clock.wall_now();
              w->last_repair_result = ok ? "applied" : "verify_failed";
              w->last_changes = r.changes;
              d_.log.info("repair applied", {{"table", key.str()},
                                             {"trigger", "rpc"},
                                             {"reason", reason},
                                             {"kinds", join(kinds_of(o.assessment->drift), ",")},
                                             {"chains", join(o.plan.chain_names(), ",")},
                                             {"rules_written", o.plan.rules_written()},
                                             {"changes", join(r.changes, " | ", 12)},
                                             {"result", w->last_repair_result},
                                             {"path", to_string(o.path)},
                                             {"fallback", o.fallback}});
              accept_snapshot(*w, o.assessment->expected, true);
            } else if (dry && !o.plan.empty()) {
              d_.log.info("netfilter dry-run: would apply",
                          {{"table", key.str()}, {"trigger", "rpc"}, {"restore", o.restore_text}});
            }
          }
        }
        c->results.push_back(std::move(r));
        if (--c->pending == 0) {
          std::sort(c->results.begin(), c->results.end(),
                    [](const auto& a, const auto& b) { return a.key < b.key; });
          c->done(std::move(c->results));
        }
      });
    });
  }
}

}  // namespace ng::netfilter

namespace ng::netfilter {

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
