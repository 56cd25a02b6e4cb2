#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/component.h"
#include "core/env_error_reporter.h"
#include "core/executor.h"
#include "core/files.h"
#include "core/health_sink.h"
#include "core/log.h"
#include "netfilter/backend.h"
#include "netfilter/backend_detect.h"
#include "netfilter/drift.h"
#include "netfilter/forget_entry.h"
#include "netfilter/guard_metrics.h"
#include "netfilter/guard_policy.h"
#include "netfilter/mixed_modes.h"
#include "netfilter/rule_provenance.h"
#include "netfilter/snapshot_store.h"
#include "netfilter/snapshot_trust.h"
#include "netfilter/writer_label.h"
#include "netfilter/xtables_lock.h"

namespace ng::netfilter {

struct GuardOptions {
  bool enabled = true;                // false: the component reports disabled and does nothing
  std::string backend_mode = "auto";  // auto | legacy | nft
  std::vector<Family> families = {Family::kIPv4, Family::kIPv6};
  GuardPolicy policy;
  core::Duration poll_interval = std::chrono::milliseconds(20);  // legacy change check
  core::Duration verify_interval = std::chrono::seconds(60);  // full read without a change signal
  core::Duration retry_interval = std::chrono::seconds(5);    // after a failed read or commit
  // A partial change (not a flush) must persist this long before it is repaired: the CNI
  // plugins tear a pod down in steps (flush its chain, delete the jump, delete the chain) that
  // look like drift halfway. Flushes are repaired at once.
  core::Duration drift_grace = std::chrono::seconds(1);
  std::chrono::milliseconds lock_timeout{5000};
  std::string lock_path;  // empty: XTABLES_LOCKFILE or /run/xtables.lock
  bool restore_policies = false;
  bool dry_run = false;      // log the restore text, change nothing
  std::string snapshot_dir;  // empty: snapshots are not persisted
  std::string identity;      // host_identity(); snapshots from elsewhere are dropped
  // Fight detection: the same non-flush drift back within fight_window of our repair, more than
  // fight_threshold times in a row, backs off exponentially and raises NetfilterFight.
  int fight_threshold = 3;
  core::Duration fight_window = std::chrono::seconds(30);
  core::Duration backoff_initial = std::chrono::seconds(1);
  core::Duration backoff_max = std::chrono::minutes(5);
  // Trust in snapshots (snapshot_trust.h): older than this, a snapshot's CNI pod entries are
  // restored only for pods the CNI cache vouches for; a snapshot loaded from disk waits at most
  // pod_vouchers_wait for the CNI cache's first look before it is used.
  core::Duration snapshot_max_age = std::chrono::minutes(15);
  core::Duration pod_vouchers_wait = std::chrono::seconds(5);
};

// The guard of one (backend, family, table).
struct TableKey {
  BackendKind backend = BackendKind::kNft;
  Family family = Family::kIPv4;
  std::string table;
  std::string str() const;  // "nft/ipv4/nat"
  bool operator<(const TableKey& o) const;
  bool operator==(const TableKey& o) const;
};

// A read-only picture of one guarded table for ListRules and the status RPC.
struct TableView {
  TableKey key;
  std::string state;                      // unknown | ok | drift | repairing | backoff | error
  std::shared_ptr<const Table> snapshot;  // guarded chains and built-in chains as last good
  size_t guarded_chains = 0;
  size_t guarded_rules = 0;
  bool canary_present = false;
  std::optional<core::WallTime> last_check;
  std::optional<core::WallTime> last_repair;
  std::string last_repair_result;  // applied | failed | verify_failed | dry_run
  std::vector<std::string> last_repair_changes;
  std::vector<DriftFinding> last_drift;
  // Attribution: the last process heard writing the table (nft: the generation's committing
  // process), and the writer of the table when the last drift was found. Empty for legacy
  // (writer_note says why) and when no generation named one.
  std::optional<ChangeWriter> last_writer;
  std::optional<ChangeWriter> drift_writer;
  std::string writer_note;            // why the writer is unknown, when it is
  std::vector<DriftFinding> reports;  // policy DROP observed, not repaired
  std::vector<ForeignRule> foreign;   // at the last check (at most 64 listed)
  size_t foreign_total = 0;
  std::string last_error;
  std::uint64_t repairs = 0;
  bool fighting = false;
  core::Duration backoff{0};
};

struct GuardView {
  std::string mode;         // configured netfilter.backend
  std::string backend_why;  // why these backends are watched
  std::vector<BackendKind> backends;
  bool dry_run = false;
  std::vector<TableView> tables;
};

// Repair-now (the Repair RPC): check every matching table at once, plan, and commit unless
// dry_run. Ignores fight backoff: an operator asked.
struct RepairRequest {
  bool dry_run = false;
  std::string table;  // empty: every guarded table
  std::optional<Family> family;
  std::optional<BackendKind> backend;
  std::string reason = "operator request";
};

struct TableRepairResult {
  TableKey key;
  std::vector<DriftFinding> drift;
  std::vector<DriftFinding> reports;
  std::vector<std::string> changes;  // TablePlan::describe()
  std::string restore_text;          // empty when nothing to do
  bool committed = false;
  bool dry_run = false;
  std::string error;
};

// Forget (the Forget RPC): drop a chain (and the jumps into it) or one rule from the snapshot of
// every matching table. `who` is for the log and the event.
struct ForgetRequest {
  ForgetEntry entry;
  std::string table;
  std::optional<Family> family;
  std::optional<BackendKind> backend;
  std::string who;
  std::string reason;
};

struct ForgetResult {
  TableKey key;
  std::vector<std::string> removed;  // ":CHAIN" and "-A CHAIN ..." lines
};

// Another component's expectations for a table that the snapshot may not hold (the CNI cache
// rebuilds hostPort DNAT chains from the runtime's result cache). Called on the loop at every
// check and repair; returns user chains with their rules, or built-in chains holding the jumps
// into them, in iptables-save canonical form. Whatever is missing is repaired in the same atomic
// commit. Must be cheap: it runs on the loop.
using ExpectedRulesProvider = std::function<std::vector<ExpectedChain>(
    BackendKind backend, Family family, const std::string& table)>;

// Told on the loop each time a check or repair of a table has finished, with the table's view
// as it is now (the snapshot is what is live plus what the guard is about to restore). Lets a
// component that feeds the guard compare its expectations with the tables.
using TableListener = std::function<void(const TableView& table)>;

// What a repair on a worker did; handed back to the loop.
struct RepairOutcome {
  std::optional<Assessment> assessment;  // made under the lock from a fresh read
  TablePlan plan;
  std::string restore_text;
  bool committed = false;
  std::optional<core::EnvError> error;
  std::vector<std::string> verify_problems;
  core::MonoTime committed_at{};
  std::optional<std::uint64_t> token_after;  // change token right after our commit
  std::optional<Table> after;                // read back after the commit
  WritePath path = WritePath::kRestore;      // how the committed write went
  // Every write tried, in order, with its result (nodeguard_netfilter_commits_total).
  std::vector<std::pair<WritePath, std::string>> writes;
  std::string fallback;  // why the fast path was not used or redone through the tools
  // Entries of dead CNI pods dropped from the snapshot before planning (snapshot_trust.h):
  // pruned_to replaced pruned_from.
  std::vector<PrunedEntry> pruned;
  std::shared_ptr<const Table> pruned_from, pruned_to;
};

struct RepairJob;  // guard_repair_job.h

// The netfilter guard: keeps a last-known-good snapshot of the guarded chains of every watched
// table, notices drift (nft: netlink notifications fed through notify_changed(); legacy: a poll
// of a cheap change token; both: a periodic verify and request_check()), tells a flush from a
// legitimate change, and repairs with one atomic commit per table. All methods run on the loop;
// backend calls run on the worker pool.
class Guard final : public core::Component {
 public:
  struct Deps {
    core::Clock& clock;
    core::Executor& loop;
    core::Executor& workers;
    core::Files& files;
    core::HealthSink& health;
    core::EnvErrorReporter& env_errors;
    prometheus::Registry& metrics;
    core::Logger log;
  };

  Guard(GuardOptions options, std::vector<std::shared_ptr<Backend>> backends, Deps deps,
        std::unique_ptr<ChangeSource> nft_events = nullptr);
  ~Guard() override;

  std::string_view name() const override { return "netfilter"; }
  void start() override;
  void stop() override;
  core::ComponentStatus status() const override;

  // An immediate check (and repair) of every watched table, coalesced with checks in flight.
  // The firewalld watcher calls it on D-Bus Reloaded.
  void request_check(std::string reason);
  // A backend reported a change of one table (nft netlink notification).
  void notify_changed(BackendKind backend, Family family, const std::string& table);
  // Notifications were lost (ENOBUFS): re-read every table of the backend.
  // certain: notifications were lost (logged, counted); otherwise a quiet re-check of every
  // table of the backend after a deaf window of our own (nft_listen_gate.h).
  void notify_events_lost(BackendKind backend, bool certain = true);

  void repair_now(RepairRequest request, std::function<void(std::vector<TableRepairResult>)> done);
  GuardView view() const;

  int add_expected_rules_provider(std::string name, ExpectedRulesProvider provider);
  void remove_expected_rules_provider(int id);
  // Loop thread. Tables whose snapshot held the entry; empty when none did.
  std::vector<ForgetResult> forget(const ForgetRequest& request);
  // Optional oracle (loop thread): rules carrying the CNI comment of a container it does not
  // vouch for are foreign (reported, not restored). Unset: the comment is trusted.
  void set_container_vouch(ContainerVouch vouch) { vouch_ = std::move(vouch); }

  // Lists the native nftables tables that exist ("ip kube-proxy"), called on a worker for the
  // mixed-mode checks (guard_mixed.cc). Unset: the kube-proxy/Calico check is skipped.
  using NativeTableLister = std::function<core::Result<std::vector<std::string>>()>;
  void set_native_table_lister(NativeTableLister l) { native_lister_ = std::move(l); }

  int add_table_listener(TableListener listener);
  void remove_table_listener(int id);
  bool dry_run() const { return opt_.dry_run; }
  // The CNI cache's word on which pods are alive (snapshot_pruning.h). expect_pod_vouchers():
  // a snapshot loaded from disk is not used before the first set_pod_vouchers() (bounded wait).
  void expect_pod_vouchers() { trust_.expect(); }
  void set_pod_vouchers(std::shared_ptr<const PodVouchers> vouchers);

  // Backends being watched (after detection); empty until start-up finished.
  std::vector<BackendKind> watched_backends() const { return choice_backends_; }
  bool started() const { return phase_ == Phase::kRunning; }

 private:
  struct Watch;
  enum class Phase { kStopped, kStarting, kRunning };

  void on_detected(BackendChoice choice, std::map<TableKey, LoadedSnapshot> loaded);
  Watch* find(const TableKey& k);
  void start_check(Watch& w, std::string_view trigger, core::MonoTime detected_at);
  // What a check assessed against; a repair reuses the check's assessment when it still holds.
  struct CheckBasis {
    std::shared_ptr<const Table> snapshot;
    std::vector<ExpectedChain> contributed;
    AssessOptions opts;
    std::shared_ptr<const GuardPolicy> policy;
    std::shared_ptr<const Table> unpruned;  // the snapshot before pruning, when pruned
    std::vector<PrunedEntry> pruned;
  };
  void on_checked(Watch& w, core::Result<Table> read, std::optional<Assessment> a,
                  std::optional<std::uint64_t> token, std::string trigger,
                  core::MonoTime detected_at, CheckBasis basis);
  void start_repair(Watch& w, Table current, std::optional<std::uint64_t> token,
                    core::MonoTime detected_at, std::string trigger, bool setup,
                    std::optional<Assessment> assessed = std::nullopt,
                    const CheckBasis* basis = nullptr);
  // Steps of on_checked (guard.cc).
  void take_read(Watch& w, const Table& read, const Assessment& A,
                 std::optional<std::uint64_t> token, const CheckBasis& basis);
  void first_snapshot(Watch& w, const Table& read, const Assessment& A);
  void follow_table(Watch& w, const Assessment& A);
  void on_drift(Watch& w, Table read, Assessment& A, std::optional<std::uint64_t> token,
                std::string trigger, core::MonoTime detected_at, const CheckBasis& basis);
  bool in_grace(Watch& w, const Assessment& A, core::MonoTime& detected_at);
  void report_drift(Watch& w, const Assessment& A, const std::string& trigger);
  // Fight backoff (guard_fight.cc): true when the repair waits.
  bool hold_off(Watch& w, const Assessment& A);
  // Repairs, loop side (guard_repair.cc; the worker side is guard_repair_job.cc).
  RepairJob make_repair_job(const Watch& w, bool dry_run) const;
  void on_repaired(Watch& w, RepairOutcome outcome, core::MonoTime detected_at, std::string trigger,
                   bool setup);
  void repair_failed(Watch& w, const RepairOutcome& o, bool setup);
  void canary_created(Watch& w, const Assessment& A);
  void would_repair(Watch& w, const RepairOutcome& o);
  void repair_applied(Watch& w, const RepairOutcome& o, core::MonoTime detected_at,
                      const std::string& trigger);
  void tell_repaired(const Watch& w, const RepairOutcome& o, core::MonoTime detected_at,
                     const std::string& trigger);
  void operator_repaired(Watch& w, const RepairOutcome& o, const std::vector<std::string>& changes,
                         bool dry, core::MonoTime detected_at, const std::string& reason);
  void finish(Watch& w);
  void accept_snapshot(Watch& w, Table expected, bool canary_present);
  void persist(Watch& w);  // guard_persist.cc
  void poll();
  void verify_all();
  void arm_poll();
  bool polled(const TableKey& k) const;
  void arm_verify();
  void update_conditions();  // guard_status.cc, with table_view()
  std::vector<ExpectedChain> contributions(const TableKey& k) const;
  TableView table_view(const Watch& w) const;
  AssessOptions assess_options(const Watch& w) const;
  void report_error(Watch& w, const core::EnvError& e, std::string_view what);
  void report_env_error(const core::EnvError& e);
  // The last writer of a table as the change source heard it (nft only).
  std::optional<ChangeWriter> writer_of(const TableKey& k) const;
  // Snapshot trust (guard_trust.cc).
  void apply_pruned(Watch& w, const std::shared_ptr<const Table>& from,
                    const std::shared_ptr<const Table>& to, const std::vector<PrunedEntry>& pruned);
  void report_pruned(const TableKey& k, const std::vector<PrunedEntry>& pruned);
  bool hold_for_vouchers(bool snapshot_loaded);
  void release_held(std::string_view why);
  void confirm_snapshot(Watch& w);
  // Foreign rules and forgotten entries (guard_foreign.cc).
  void note_foreign(Watch& w, const Assessment& a);
  void update_foreign_condition();
  void strip_forgotten(const Watch& w, Table& snapshot) const;
  void prune_forgotten(Watch& w, const Table& read);
  std::shared_ptr<const std::set<std::string>> unvouched(const Watch& w) const;
  void maybe_recovered();
  // Mixed firewall modes (guard_mixed.cc).
  void scan_mixed_modes();
  void on_mixed_modes(const MixedModeInput& in);

  GuardOptions opt_;
  std::shared_ptr<const GuardPolicy> policy_;
  std::vector<std::shared_ptr<Backend>> backends_;
  Deps d_;
  GuardMetrics metrics_;
  WriterLabels writer_labels_;
  XtablesLock lock_;
  Phase phase_ = Phase::kStopped;
  std::shared_ptr<bool> alive_;  // worker results check it before touching the guard
  std::vector<BackendKind> choice_backends_;
  std::string choice_why_;
  std::map<TableKey, std::unique_ptr<Watch>> watches_;
  std::map<int, std::pair<std::string, ExpectedRulesProvider>> providers_;
  int next_provider_ = 1;
  std::map<int, TableListener> listeners_;
  std::unique_ptr<core::Timer> poll_timer_;
  std::unique_ptr<core::Timer> verify_timer_;
  bool poll_in_flight_ = false;
  std::uint64_t poll_ticks_ = 0;
  bool fight_condition_ = false;
  bool policy_condition_ = false;
  bool failing_condition_ = false;
  bool foreign_condition_ = false;
  ContainerVouch vouch_;
  std::uint64_t repairs_total_ = 0;
  bool env_error_ = false;
  std::string persist_error_;  // the last snapshot write failed: guarding from memory
  std::unique_ptr<ChangeSource> nft_events_;
  bool nft_events_running_ = false;
  std::map<std::pair<BackendKind, Family>, bool> usable_;
  SnapshotTrust trust_;
  bool holding_ = false;  // start-up checks wait for the CNI cache's first answer
  std::unique_ptr<core::Timer> hold_timer_;
  // Mixed modes: the last scan's summary per table (reused while its change token holds), and
  // the message of each condition as last set ("" inactive).
  struct HeldTable {
    std::optional<std::uint64_t> token;
    TableHolding holding;
  };
  NativeTableLister native_lister_;
  std::map<TableKey, HeldTable> mixed_held_;
  std::map<std::string, std::string> mixed_set_;
  bool mixed_in_flight_ = false;
  bool mixed_first_scan_ = false;
  std::unique_ptr<core::Timer> mixed_timer_;
  static constexpr std::chrono::seconds kFirstMixedScanDelay{2};
};

}  // namespace ng::netfilter
