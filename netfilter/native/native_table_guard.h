#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/component.h"
#include "core/env_error_reporter.h"
#include "core/executor.h"
#include "core/health_sink.h"
#include "core/log.h"
#include "netfilter/native/native_classify.h"
#include "netfilter/native/native_config.h"
#include "netfilter/native/native_guard_metrics.h"
#include "netfilter/native/native_repair.h"
#include "netfilter/native/native_table_backend.h"
#include "netfilter/nft/nft_generation.h"
#include "netfilter/nft/nft_monitor.h"

namespace ng::netfilter::native {

// What ngctl rules shows of one native table.
struct NativeTableView {
  std::string family;
  std::string name;
  std::vector<std::string> owners;
  std::string state;  // unseen | absent | guarded | wiped | failed
  NativeCounts counts;
  std::optional<NativeWriter> last_writer;
  std::string last_drift;  // shape of the last wipe
  std::string last_error;
  std::uint64_t wipes = 0;
  std::uint64_t repairs = 0;
};

// Guards whole native nftables tables (kube-proxy's, Calico's, portmap's): learns every change
// their owners make and undoes wipe-shaped changes by anyone else (docs/nftables.md).
//
// Threads: all state lives on the loop. Every table read and restore runs on a worker, one at a
// time per table; results come back with loop.post. A generation touching a table marks it for
// a read: at once when a non-owner deleted something in it, else after `coalesce` (bursts of an
// owner's transactions cost one read). A read consistent with generation G is judged only once
// the monitor has heard every transaction up to G (or after a 2 s fallback, with the unheard
// writers unknown), so a wipe is never learned as an owner's change.
class NativeTableGuard final : public core::Component {
 public:
  struct Deps {
    core::Clock& clock;
    core::HealthSink& health;
    core::EnvErrorReporter& env_errors;
    prometheus::Registry& metrics;
    core::Logger log;
    core::Executor& loop;
    core::Executor& workers;
    // Whether a committing pid is this process (any of its threads).
    std::function<bool(std::uint32_t pid)> is_self;
    // The comm of the parent of pid, empty when unknown (the process is gone).
    std::function<std::string(std::uint32_t pid)> parent_comm;
  };

  // monitor may be null (unit tests feed on_generation directly).
  NativeTableGuard(NativeTablesConfig config, bool enabled, bool dry_run,
                   std::shared_ptr<NativeTableBackend> backend, std::unique_ptr<NftMonitor> monitor,
                   Deps deps);
  ~NativeTableGuard() override;

  std::string_view name() const override { return "nftables"; }
  void start() override;
  void stop() override;
  core::ComponentStatus status() const override;

  // One committed transaction (the monitor's on_generation).
  void on_generation(const NftGeneration& gen);
  // Notifications were lost: every table is read again, writers unknown.
  void on_lost();
  // Re-read every table now and restore those that look wiped (ngctl repair).
  void recheck();
  std::vector<NativeTableView> tables() const;

  // The bounded writer label: the comm when it is a configured owner or a known firewall
  // tool, "other" otherwise, "unknown" without one.
  std::string writer_label(const ChangeWriter& w) const;

  static constexpr std::size_t kMaxPendingWriters = 64;
  static constexpr core::Duration kSettleFallback = std::chrono::seconds(2);
  static constexpr core::Duration kRetryMin = std::chrono::milliseconds(500);
  static constexpr core::Duration kRetryMax = std::chrono::seconds(30);

 private:
  enum class State { kUnseen, kAbsent, kGuarded, kWiped, kFailed };
  struct Table;
  enum class Reason { kStart, kOwner, kChange, kRequest, kLost };

  void schedule(Table& t, bool urgent, Reason why);
  void observe(Table& t);
  void on_observed(Table& t, core::Result<NativeDump> dump, double seconds);
  void settle(Table& t, NativeDump dump, bool fallback);
  void learn(Table& t, NativeDump dump, const std::vector<NativeWriter>& writers);
  void wiped(Table& t, NativeDump dump, const NativeChange& change);
  void on_repaired(Table& t, NativeRepairOutcome out, double seconds, const NativeChange& change);
  void finish(Table& t);
  void retry_later(Table& t);
  void update_condition();
  std::vector<std::pair<std::string, std::string>> writer_fields(const NativeWriter& w) const;

  bool enabled_;
  bool dry_run_;
  NativeTablesConfig config_;
  std::shared_ptr<NativeTableBackend> backend_;
  std::unique_ptr<NftMonitor> monitor_;
  Deps d_;
  NativeGuardMetrics metrics_;
  std::vector<std::unique_ptr<Table>> tables_;
  std::vector<std::string> label_names_;
  std::uint32_t last_heard_ = 0;
  bool monitor_ok_ = false;
  bool stopped_ = true;
  std::shared_ptr<bool> alive_;
};

// Production helpers for Deps, over the host's /proc as mounted (netfilter.proc_root; the kernel
// names the committing thread by its pid in the host's pid namespace, and a procfs resolves
// `self` in its own namespace, so <proc_root>/self/task works in a pod without hostPID too):
// pid is one of this process's threads; the parent's comm from PID/stat and PPID/comm.
bool pid_is_self(std::uint32_t pid, const std::string& proc_root = "/proc");
std::string proc_parent_comm(std::uint32_t pid, const std::string& proc_root = "/proc");

}  // namespace ng::netfilter::native
