#include "netfilter/native/native_table_guard.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include "netfilter/nft/nft_monitor.h"
#include "netfilter/nft/nft_table_wire.h"

namespace ng::netfilter::native {

namespace {
constexpr std::string_view kComponent = "nftables";

std::string_view reason_name(int r) {
  static constexpr std::string_view kNames[] = {"start", "owner", "change", "request", "lost"};
  return r >= 0 && r < 5 ? kNames[r] : "change";
}

// A transaction that deleted something in the table may have wiped it; one that only added
// cannot have.
bool could_wipe(const NftTouchedTable& t) {
  return (t.msgs & ngnft_deleting_msgs()) != 0;
}

double since(core::MonoTime t0, core::MonoTime t1) {
  return std::chrono::duration<double>(t1 - t0).count();
}
}  // namespace

struct NativeTableGuard::Table {
  NativeTableSpec spec;
  std::string id;      // "ip kube-proxy"
  std::string family;  // "ip"
  std::shared_ptr<const NativeTableSnapshot> good;
  State state = State::kUnseen;
  bool busy = false;
  bool again = false;
  bool again_urgent = false;
  Reason reason = Reason::kStart;
  std::unique_ptr<core::Timer> timer;
  std::unique_ptr<core::Timer> park_timer;
  // Transactions that touched the table since its last read began: (genid, writer).
  std::vector<std::pair<std::uint32_t, NativeWriter>> writers;
  std::optional<NativeDump> parked;
  std::optional<NativeWriter> last_writer;
  std::string last_drift;
  std::string last_error;
  std::uint64_t wipes = 0;
  std::uint64_t repairs = 0;
  double last_dump_seconds = 0;
  bool writers_dropped = false;
  core::Duration retry_delay{};  // after a failed read; doubles up to kRetryMax
};

NativeTableGuard::NativeTableGuard(NativeTablesConfig config, bool enabled, bool dry_run,
                                   std::shared_ptr<NativeTableBackend> backend,
                                   std::unique_ptr<NftMonitor> monitor, Deps deps)
    : enabled_(enabled && !config.tables.empty()),
      dry_run_(dry_run),
      config_(std::move(config)),
      backend_(std::move(backend)),
      monitor_(std::move(monitor)),
      d_(std::move(deps)),
      metrics_(d_.metrics),
      alive_(std::make_shared<bool>(true)) {
  label_names_ = {"nft",       "iptables", "iptables-nft", "iptables-restor", "iptables-nft-re",
                  "firewalld", "nodeguard"};
  for (auto& spec : native_table_specs(config_)) {
    auto t = std::make_unique<Table>();
    t->id = native_table_id(spec.table);
    t->family = std::string(nfproto_name(spec.table.nfproto));
    for (const auto& o : spec.owners) label_names_.push_back(o);
    t->spec = std::move(spec);
    t->timer = d_.clock.make_timer();
    t->park_timer = d_.clock.make_timer();
    tables_.push_back(std::move(t));
  }
}

NativeTableGuard::~NativeTableGuard() {
  *alive_ = false;
}

void NativeTableGuard::start() {
  if (!enabled_) return;
  stopped_ = false;
  monitor_ok_ = true;  // without a monitor of its own, the owner feeds on_generation
  if (monitor_) {
    monitor_->on_generation([this](const NftGeneration& g) { on_generation(g); });
    auto st = monitor_->start([](Family, const std::string&) {}, [this](bool) { on_lost(); });
    monitor_ok_ = st.ok();
    if (!st) d_.env_errors.report(std::string(kComponent), st.error());
  }
  for (auto& t : tables_) schedule(*t, true, Reason::kStart);
  d_.log.info("native nftables guard started",
              {{"tables", static_cast<std::int64_t>(tables_.size())},
               {"monitor", monitor_ok_},
               {"dry_run", dry_run_}});
}

void NativeTableGuard::stop() {
  stopped_ = true;
  if (monitor_) monitor_->stop();
  for (auto& t : tables_) {
    t->timer->cancel();
    t->park_timer->cancel();
  }
}

void NativeTableGuard::on_generation(const NftGeneration& gen) {
  if (stopped_) return;
  last_heard_ = std::max(last_heard_, gen.writer.genid);
  std::optional<NativeWriter> w;
  for (auto& tp : tables_) {
    Table& t = *tp;
    auto it = std::lower_bound(
        gen.tables.begin(), gen.tables.end(), t.spec.table,
        [](const NftTouchedTable& a, const NftTableRef& b) { return a.table < b; });
    const bool touched = it != gen.tables.end() && it->table == t.spec.table;
    if (!touched && !gen.truncated) continue;
    if (!w) {
      w = NativeWriter{gen.writer, "", d_.is_self && d_.is_self(gen.writer.pid)};
      if (!w->self && gen.writer.pid && d_.parent_comm) {
        w->parent_comm = d_.parent_comm(gen.writer.pid);
      }
    }
    if (w->self) continue;  // our own restore
    if (t.writers.size() >= kMaxPendingWriters) {
      // Bounded: the oldest writer is forgotten, and counted as unknown (not the owner), so a
      // wipe buried under a flood of owner transactions is still repaired.
      t.writers.erase(t.writers.begin());
      t.writers_dropped = true;
    }
    t.writers.emplace_back(gen.writer.genid, *w);
    t.last_writer = *w;
    const bool owner = is_owner(*w, t.spec.owners);
    const bool urgent = !owner && (gen.truncated || (touched && could_wipe(*it)));
    schedule(t, urgent, owner ? Reason::kOwner : Reason::kChange);
  }
  // Reads that waited for this generation to be heard.
  for (auto& tp : tables_) {
    if (tp->parked && tp->parked->genid <= last_heard_) {
      tp->park_timer->cancel();
      auto dump = std::move(*tp->parked);
      tp->parked.reset();
      settle(*tp, std::move(dump), false);
    }
  }
}

void NativeTableGuard::on_lost() {
  if (stopped_) return;
  d_.log.warn("nftables notifications lost: reading every native table again");
  for (auto& t : tables_) {
    t->writers.emplace_back(0, NativeWriter{});  // unknown
    schedule(*t, true, Reason::kLost);
  }
}

void NativeTableGuard::recheck() {
  for (auto& t : tables_) {
    if (t->state == State::kWiped || t->state == State::kFailed) {
      t->writers.emplace_back(0, t->last_writer.value_or(NativeWriter{}));
    }
    schedule(*t, true, Reason::kRequest);
  }
}

void NativeTableGuard::schedule(Table& t, bool urgent, Reason why) {
  if (stopped_) return;
  if (t.busy) {
    t.again = true;
    t.again_urgent = t.again_urgent || urgent;
    return;
  }
  if (!urgent && t.timer->armed()) return;  // coalesced into the pending read
  t.reason = why;
  // A re-read to learn waits at least the configured quiet time, and at least ten times what
  // the last read cost: learning a huge table (10,000 services: seconds per read) then takes
  // at most a tenth of a core however often its owner writes. Possible wipes are read at once.
  const auto learn_delay = std::max(std::chrono::duration_cast<core::Duration>(config_.coalesce),
                                    std::chrono::duration_cast<core::Duration>(
                                        std::chrono::duration<double>(10 * t.last_dump_seconds)));
  const core::Duration delay = urgent ? core::Duration::zero() : learn_delay;
  t.timer->arm(delay, [this, tp = &t] { observe(*tp); });
}

void NativeTableGuard::observe(Table& t) {
  if (stopped_ || t.busy) return;
  t.busy = true;
  d_.workers.post(
      [this, tp = &t, alive = alive_, backend = backend_, ref = t.spec.table, &loop = d_.loop] {
        const auto t0 = std::chrono::steady_clock::now();
        auto dump = backend->dump(ref);
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        loop.post([this, tp, alive, secs, dump = std::move(dump)]() mutable {
          if (*alive) on_observed(*tp, std::move(dump), secs);
        });
      });
}

void NativeTableGuard::on_observed(Table& t, core::Result<NativeDump> dump, double seconds) {
  if (stopped_) {  // shutting down: judge nothing, write nothing
    t.busy = false;
    return;
  }
  metrics_.dump(t.family, t.id, reason_name(static_cast<int>(t.reason)), seconds);
  t.last_dump_seconds = seconds;
  if (!dump) {
    d_.env_errors.report(std::string(kComponent), dump.error());
    t.last_error = dump.error().message;
    finish(t);
    retry_later(t);
    return;
  }
  t.retry_delay = core::Duration::zero();
  d_.env_errors.recovered(std::string(kComponent));
  // The read includes every transaction up to its generation: judge it once all of them were
  // heard (their writers decide learn or repair). A table never seen is learned at once.
  if (t.good && dump->genid > last_heard_ && monitor_ok_) {
    t.parked = std::move(dump.value());
    t.park_timer->arm(kSettleFallback, [this, tp = &t] {
      if (!tp->parked) return;
      auto d = std::move(*tp->parked);
      tp->parked.reset();
      settle(*tp, std::move(d), true);
    });
    return;
  }
  settle(t, std::move(dump.value()), false);
}

void NativeTableGuard::settle(Table& t, NativeDump dump, bool fallback) {
  std::vector<NativeWriter> writers;
  auto keep = std::stable_partition(t.writers.begin(), t.writers.end(),
                                    [&](const auto& e) { return e.first > dump.genid; });
  for (auto it = keep; it != t.writers.end(); ++it) writers.push_back(it->second);
  t.writers.erase(keep, t.writers.end());
  if (fallback) writers.push_back(NativeWriter{});  // transactions never heard: writer unknown
  if (t.writers_dropped) writers.insert(writers.begin(), NativeWriter{});
  t.writers_dropped = false;
  if (!t.good) {
    learn(t, std::move(dump), writers);
    finish(t);
    return;
  }
  const auto change = classify_native_change(*t.good, dump.table, writers, t.spec.owners);
  if (change.verdict == NativeVerdict::kLearn) {
    learn(t, std::move(dump), writers);
    finish(t);
    return;
  }
  wiped(t, std::move(dump), change);
}

void NativeTableGuard::learn(Table& t, NativeDump dump, const std::vector<NativeWriter>& writers) {
  const bool had = t.good != nullptr;
  if (dump.table) {
    const auto& c = dump.table->counts;
    metrics_.table(t.family, t.id, c.chains, c.rules, c.elements, true);
    if (!had || t.state != State::kGuarded) {
      d_.log.info("native table guarded", {{"table", t.id},
                                           {"chains", c.chains},
                                           {"rules", c.rules},
                                           {"sets", c.sets},
                                           {"elements", c.elements}});
    }
    d_.log.debug("native table learned", {{"table", t.id},
                                          {"generation", static_cast<std::int64_t>(dump.genid)},
                                          {"writers", static_cast<std::int64_t>(writers.size())},
                                          {"chains", c.chains},
                                          {"rules", c.rules},
                                          {"elements", c.elements}});
    t.good = std::make_shared<const NativeTableSnapshot>(std::move(*dump.table));
    t.state = State::kGuarded;
  } else {
    metrics_.table(t.family, t.id, 0, 0, 0, false);
    if (had) {
      // Deleted by its owner (or never wipe-shaped by rule): forget it, never recreate it.
      const NativeWriter w = writers.empty() ? NativeWriter{} : writers.back();
      const auto wf = writer_fields(w);
      std::vector<core::LogField> f = {{"table", t.id}};
      for (const auto& [k, v] : wf) f.emplace_back(k, v);
      d_.log.log(core::LogLevel::kInfo,
                 "native table removed by its owner: learned, no longer restored", f);
    }
    t.good.reset();
    t.state = State::kAbsent;
  }
  update_condition();
}

void NativeTableGuard::wiped(Table& t, NativeDump dump, const NativeChange& change) {
  t.wipes++;
  t.last_drift = change.shape;
  t.state = State::kWiped;
  const std::string label = writer_label(change.wiper.writer);
  metrics_.drift(t.family, t.id, change.shape, label);
  const auto wf = writer_fields(change.wiper);
  std::map<std::string, std::string> attrs = {{"table", t.id}, {"kind", change.shape}};
  for (const auto& [k, v] : wf) attrs[k] = v;
  std::vector<core::LogField> f = {{"table", t.id}, {"kind", change.shape}};
  for (const auto& [k, v] : wf) f.emplace_back(k, v);
  d_.log.log(core::LogLevel::kWarn, "native table wiped", f);
  d_.health.record_event(core::HealthEvent{
      std::string(kComponent), "NativeTableWiped",
      "nftables table " + t.id + " wiped (" + change.shape + ") by " +
          (change.wiper.writer.comm.empty() ? "an unknown process" : change.wiper.writer.comm),
      core::Severity::kWarning, attrs});
  if (dry_run_) {
    metrics_.repair(t.family, t.id, "dry_run", label);
    d_.log.info("dry run: native table not restored", {{"table", t.id}});
    update_condition();
    finish(t);
    return;
  }
  const auto t0 = d_.clock.now();
  d_.workers.post([this, tp = &t, alive = alive_, backend = backend_, good = t.good, t0, change,
                   &loop = d_.loop, dump = std::move(dump)]() mutable {
    auto out = repair_native_table(*backend, *good, std::move(dump));
    loop.post([this, tp, alive, t0, change, out = std::move(out)]() mutable {
      if (*alive) on_repaired(*tp, std::move(out), since(t0, d_.clock.now()), change);
    });
  });
}

void NativeTableGuard::on_repaired(Table& t, NativeRepairOutcome out, double seconds,
                                   const NativeChange& change) {
  using Kind = NativeRepairOutcome::Kind;
  const std::string label = writer_label(change.wiper.writer);
  metrics_.repair(t.family, t.id, to_string(out.kind), label);
  std::vector<core::LogField> f = {{"table", t.id},
                                   {"kind", change.shape},
                                   {"result", std::string(to_string(out.kind))},
                                   {"attempts", out.attempts},
                                   {"seconds", seconds}};
  const auto wf = writer_fields(change.wiper);
  for (const auto& [k, v] : wf) f.emplace_back(k, v);
  std::map<std::string, std::string> attrs = {
      {"table", t.id}, {"kind", change.shape}, {"result", std::string(to_string(out.kind))}};
  for (const auto& [k, v] : wf) attrs[k] = v;
  if (out.kind == Kind::kRestored) {
    metrics_.repair_duration(seconds);
    t.repairs++;
    t.state = State::kGuarded;
    t.last_error.clear();
    d_.log.log(core::LogLevel::kInfo, "native table restored", f);
    d_.health.record_event(
        core::HealthEvent{std::string(kComponent), "NativeTableRestored",
                          "nftables table " + t.id + " restored after a " + change.shape + " by " +
                              (change.wiper.writer.comm.empty() ? std::string("an unknown process")
                                                                : change.wiper.writer.comm),
                          core::Severity::kInfo, attrs});
  } else if (out.kind == Kind::kNotWiped) {
    d_.log.log(core::LogLevel::kInfo,
               "native table rebuilt by someone else before the restore: learned", f);
    learn(t, std::move(out.current), {});
  } else {
    t.state = State::kFailed;
    t.last_error = out.error;
    f.emplace_back("error", out.error);
    d_.log.log(core::LogLevel::kError, "native table restore failed", f);
    attrs["error"] = out.error;
    d_.health.record_event(
        core::HealthEvent{std::string(kComponent), "NativeTableRestoreFailed",
                          "nftables table " + t.id + " could not be restored: " + out.error,
                          core::Severity::kError, attrs});
  }
  update_condition();
  finish(t);
}

// A read that failed (busy kernel, a limit) is tried again with backoff: the table stays
// guarded even when no later transaction touches it.
void NativeTableGuard::retry_later(Table& t) {
  if (stopped_ || t.busy || t.timer->armed()) return;
  t.retry_delay = std::clamp(2 * t.retry_delay, kRetryMin, kRetryMax);
  t.reason = Reason::kChange;
  t.timer->arm(t.retry_delay, [this, tp = &t] { observe(*tp); });
}

void NativeTableGuard::finish(Table& t) {
  t.busy = false;
  if (t.again) {
    const bool urgent = t.again_urgent;
    t.again = t.again_urgent = false;
    schedule(t, urgent, Reason::kChange);
  }
}

void NativeTableGuard::update_condition() {
  std::string broken;
  for (const auto& t : tables_) {
    if (t->state == State::kWiped || t->state == State::kFailed) {
      broken += (broken.empty() ? "" : ", ") + t->id;
    }
  }
  d_.health.set_condition(core::ConditionReport{
      "NativeTableWiped", !broken.empty(),
      broken.empty() ? "NativeTablesIntact" : "NativeTableWiped",
      broken.empty() ? "every guarded native nftables table is intact"
                     : "nftables tables wiped and not restored: " + broken +
                           " (see the agent's log and events; a restart of the owner, e.g. "
                           "kube-proxy, rebuilds its table)",
      core::Severity::kError});
}

std::string NativeTableGuard::writer_label(const ChangeWriter& w) const {
  if (w.comm.empty()) return w.pid ? "other" : "unknown";
  return std::find(label_names_.begin(), label_names_.end(), w.comm) != label_names_.end()
             ? w.comm
             : "other";
}

std::vector<std::pair<std::string, std::string>> NativeTableGuard::writer_fields(
    const NativeWriter& w) const {
  std::vector<std::pair<std::string, std::string>> f;
  f.emplace_back("writer_pid", std::to_string(w.writer.pid));
  f.emplace_back("writer_comm", w.writer.comm.empty() ? "unknown" : w.writer.comm);
  if (!w.parent_comm.empty()) f.emplace_back("writer_parent", w.parent_comm);
  if (!w.writer.unit.empty()) f.emplace_back("writer_unit", w.writer.unit);
  if (!w.writer.container.empty()) f.emplace_back("writer_container", w.writer.container);
  if (w.writer.genid) f.emplace_back("generation", std::to_string(w.writer.genid));
  return f;
}

core::ComponentStatus NativeTableGuard::status() const {
  core::ComponentStatus s;
  if (!enabled_) {
    s.state = core::ComponentState::kDisabled;
    s.message = "no native nftables tables configured (netfilter.nft_tables)";
    return s;
  }
  if (stopped_) return s;
  size_t guarded = 0, broken = 0;
  for (const auto& t : tables_) {
    guarded += t->state == State::kGuarded;
    broken += t->state == State::kWiped || t->state == State::kFailed;
  }
  s.state = broken || !monitor_ok_ || d_.env_errors.has_error(std::string(kComponent))
                ? core::ComponentState::kDegraded
                : core::ComponentState::kRunning;
  s.message = "guarding " + std::to_string(guarded) + " of " + std::to_string(tables_.size()) +
              " native nftables tables" +
              (broken ? "; " + std::to_string(broken) + " wiped and not restored" : "") +
              (monitor_ok_ ? "" : "; no change notifications");
  s.details = {{"guarded", std::to_string(guarded)}, {"wiped", std::to_string(broken)}};
  return s;
}

std::vector<NativeTableView> NativeTableGuard::tables() const {
  static constexpr const char* kState[] = {"unseen", "absent", "guarded", "wiped", "failed"};
  std::vector<NativeTableView> out;
  for (const auto& t : tables_) {
    NativeTableView v;
    v.family = t->family;
    v.name = t->spec.table.name;
    v.owners = t->spec.owners;
    v.state = kState[static_cast<int>(t->state)];
    if (t->good) v.counts = t->good->counts;
    v.last_writer = t->last_writer;
    v.last_drift = t->last_drift;
    v.last_error = t->last_error;
    v.wipes = t->wipes;
    v.repairs = t->repairs;
    out.push_back(std::move(v));
  }
  return out;
}

bool pid_is_self(std::uint32_t pid, const std::string& proc_root) {
  if (pid == 0) return false;
  if (proc_root == "/proc" && pid == static_cast<std::uint32_t>(::getpid())) return true;
  const std::string task = proc_root + "/self/task/" + std::to_string(pid);
  return ::access(task.c_str(), F_OK) == 0;
}

std::string proc_parent_comm(std::uint32_t pid, const std::string& proc_root) {
  if (pid == 0) return "";
  std::ifstream stat(proc_root + "/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return "";
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses; the last ')' ends it.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream rest(line.substr(close + 1));
  std::string state;
  long ppid = 0;
  if (!(rest >> state >> ppid) || ppid <= 0) return "";
  std::ifstream comm(proc_root + "/" + std::to_string(ppid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name.substr(0, 15);
}

}  // namespace ng::netfilter::native
