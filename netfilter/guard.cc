// The guard's state machine: start-up, one check per table at a time (coalesced reruns), the
// verdict of a check (snapshot follows the owners, grace for partial changes, drift), and the
// change signals (netlink, poll, verify, requests). Repairs, fights, foreign rules, persistence
// and the status live in guard_*.cc.
#include "netfilter/guard.h"

#include <algorithm>
#include <tuple>

#include "netfilter/guard_internal.h"
#include "netfilter/save_codec.h"

namespace ng::netfilter {

using guard_detail::add_writer_attributes;
using guard_detail::add_writer_fields;
using guard_detail::chains_of;
using guard_detail::join;
using guard_detail::kComponent;
using guard_detail::kinds_of;
using guard_detail::writer_phrase;

namespace {

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
  mixed_in_flight_ = false;  // a scan cut short by stop() never came back
  mixed_first_scan_ = false;
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
        w->fight = FightTracker(FightPolicy{opt_.fight_threshold, opt_.fight_window,
                                            opt_.backoff_initial, opt_.backoff_max});
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
  // The first mixed-mode scan waits for the first check of every table (finish()): it reads
  // watched nft tables through their watch.
  if (watches_.empty()) scan_mixed_modes();
}

void Guard::stop() {
  if (phase_ == Phase::kStopped) return;
  phase_ = Phase::kStopped;
  alive_.reset();
  if (poll_timer_) poll_timer_->cancel();
  if (verify_timer_) verify_timer_->cancel();
  if (mixed_timer_) mixed_timer_->cancel();
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
  // A verify re-reads only when the change token moved (nft: the generation id; legacy:
  // IPT_SO_GET_INFO and a content hash at most 5 s old): an unchanged token is an unchanged
  // table, and at 10,000 legacy rules the read costs ~0.2 % of a core every minute.
  const bool skip_if_unchanged = trigger == "verify";
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
  Assessment& A = *a;
  take_read(w, *read, A, token, basis);
  const bool has_guarded =
      policy_->guarded_rule_count(A.expected) > 0 || policy_->guarded_chain_count(A.expected) > 0;
  const bool need_canary = has_guarded && !A.canary_present && !opt_.dry_run;
  if (!w.have_snapshot) {
    first_snapshot(w, *read, A);
  } else if (!A.has_drift()) {
    follow_table(w, A);
  }
  if (A.has_drift()) {
    on_drift(w, std::move(*read), A, token, std::move(trigger), detected_at, basis);
  } else if (need_canary) {
    start_repair(w, std::move(*read), token, detected_at, "setup", true);
  } else {
    finish(w);
  }
}

// A read succeeded: what it says about the table apart from drift.
void Guard::take_read(Watch& w, const Table& read, const Assessment& A,
                      std::optional<std::uint64_t> token, const CheckBasis& basis) {
  if (w.error) {
    w.error = false;
    w.last_error.clear();
    maybe_recovered();
  }
  w.last_token = token;
  if (basis.unpruned) apply_pruned(w, basis.unpruned, basis.snapshot, basis.pruned);
  w.canary_present = A.canary_present;
  if (A.canary_present) w.canary_expected = true;
  w.save_note.clear();
  for (const auto& l : read.before) {
    if (w.save_note = incompatible_note(l); !w.save_note.empty()) break;
  }
  w.reports = A.reports;
  note_foreign(w, A);
  prune_forgotten(w, read);
}

// The first good read of a table the guard has no snapshot of.
void Guard::first_snapshot(Watch& w, const Table& read, const Assessment& A) {
  w.have_snapshot = true;
  w.state = "ok";
  if (!A.has_drift()) {
    accept_snapshot(w, A.expected, A.canary_present);
    return;
  }
  // Against an empty snapshot only contributed rules can be missing (a first start on a node
  // whose hostPort rules are gone): the table as it is becomes the snapshot, and the missing
  // contributions are drift like any other (grace, events, one commit).
  accept_snapshot(w, policy_->project(read), A.canary_present);
}

// No drift: a partial change settled, the owners' changes become the snapshot, and a fight ends
// once the other writer stayed quiet long enough.
void Guard::follow_table(Watch& w, const Assessment& A) {
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
  if (w.fight.end_if_quiet(d_.clock.now())) {
    d_.log.info("netfilter fight over", {{"table", w.key.str()}});
  }
  w.state = "ok";
}

// Drift: after the grace of a partial change and unless fighting, repair.
void Guard::on_drift(Watch& w, Table read, Assessment& A, std::optional<std::uint64_t> token,
                     std::string trigger, core::MonoTime detected_at, const CheckBasis& basis) {
  if (!A.flush && in_grace(w, A, detected_at)) return;
  w.drift_since.reset();
  w.settle_timer->cancel();
  report_drift(w, A, trigger);
  if (!A.flush && hold_off(w, A)) return;
  start_repair(w, std::move(read), token, detected_at, std::move(trigger), false, std::move(A),
               &basis);
}

// A partial change gets drift_grace to settle (an owner's multi-step change). True while it
// waits (the watch is finished); once it is due, detected_at is when it was first seen.
bool Guard::in_grace(Watch& w, const Assessment& A, core::MonoTime& detected_at) {
  if (opt_.drift_grace.count() <= 0) return false;
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
    return true;
  }
  if (now - *w.drift_since < opt_.drift_grace) {
    finish(w);
    return true;
  }
  detected_at = std::min(detected_at, *w.drift_since);
  return false;
}

// Drift about to be repaired: metrics, the log line and the event, naming the writer.
void Guard::report_drift(Watch& w, const Assessment& A, const std::string& trigger) {
  w.last_drift = A.drift;
  w.state = "drift";
  w.drift_writer = writer_of(w.key);
  w.drift_writer_label = writer_labels_.label(w.drift_writer);
  for (const auto& k : kinds_of(A.drift)) {
    for (const auto& f : A.drift) {
      if (to_string(f.kind) == k) {
        metrics_.drift(w.key.backend, w.key.family, w.key.table, f.kind, w.drift_writer_label);
        break;
      }
    }
  }
  const auto kinds = join(kinds_of(A.drift), ",");
  const auto chains = join(chains_of(A.drift), ",");
  std::vector<core::LogField> fields = {{"table", w.key.str()},
                                        {"kinds", kinds},
                                        {"chains", chains},
                                        {"flush", A.flush},
                                        {"detail", A.flush ? A.drift.front().detail : A.signature},
                                        {"trigger", trigger}};
  add_writer_fields(fields, w.key.backend, w.drift_writer);
  d_.log.log(core::LogLevel::kWarn, "netfilter drift", fields);
  core::HealthEvent e{
      kComponent,
      "NetfilterDrift",
      (A.flush ? "Guarded iptables chains were flushed in " + w.key.str() + " (" +
                     A.drift.front().detail + ")"
               : "Guarded iptables rules changed in " + w.key.str() + ": " + kinds) +
          writer_phrase(w.key.backend, w.drift_writer),
      core::Severity::kWarning,
      {{"table", w.key.table},
       {"family", std::string(to_string(w.key.family))},
       {"backend", std::string(to_string(w.key.backend))},
       {"kinds", kinds},
       {"chains", chains}}};
  add_writer_attributes(e.attributes, w.key.backend, w.drift_writer);
  d_.health.record_event(std::move(e));
}

std::optional<ChangeWriter> Guard::writer_of(const TableKey& k) const {
  if (k.backend != BackendKind::kNft || !nft_events_ || !nft_events_running_) return std::nullopt;
  return nft_events_->last_writer(k.family, k.table);
}

void Guard::finish(Watch& w) {
  update_conditions();
  if (!mixed_first_scan_) {
    bool all = true;
    for (const auto& [k, x] : watches_) all = all && x->last_check.has_value();
    if (all) {
      // Not at once: the canary setups and the first repairs of start-up need the workers
      // more than this report does.
      mixed_first_scan_ = true;
      if (!mixed_timer_) mixed_timer_ = d_.clock.make_timer();
      mixed_timer_->arm(kFirstMixedScanDelay, [this] { scan_mixed_modes(); });
    }
  }
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

// Each tick, tables whose backend has a loop token (legacy: IPT_SO_GET_INFO, ~1 us) are
// checked right here; the worker hop for the full change token (two thread wake-ups, tens of
// microseconds: more than the check itself, and what made a 10 ms poll cost ~1 % of a core)
// runs about once a second for them (it also sees same-size changes: a policy flip), and every
// tick for the others (nft without notifications).
void Guard::poll() {
  if (phase_ != Phase::kRunning) return;
  arm_poll();  // a fixed cadence; a poll still in flight makes this tick a no-op
  const auto now = d_.clock.now();
  const auto per_second =
      std::chrono::seconds(1) /
      std::max<core::Duration>(opt_.poll_interval, std::chrono::milliseconds(1));
  const bool slow_tick =
      ++poll_ticks_ % static_cast<std::uint64_t>(std::max<long>(1, per_second)) == 0;
  std::vector<std::pair<TableKey, std::shared_ptr<Backend>>> targets;
  for (auto& [k, w] : watches_) {
    if (!polled(k)) continue;
    if (auto t = w->backend->loop_token(k.family, k.table)) {
      if (w->have_snapshot && w->last_info && *t != *w->last_info) {
        d_.log.debug("netfilter change token moved", {{"table", k.str()}});
        start_check(*w, "poll", now);
      }
      w->last_info = *t;
      if (!slow_tick) continue;
    }
    targets.emplace_back(k, w->backend);
  }
  if (targets.empty() || poll_in_flight_) return;
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
  scan_mixed_modes();
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

}  // namespace ng::netfilter
