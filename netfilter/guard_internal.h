#pragma once

// Shared by the guard's source files (guard*.cc) only: the per-table state and the small text
// helpers of the log lines and events. Not part of the guard's API.

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/strings.h"
#include "netfilter/guard.h"
#include "netfilter/guard_fight.h"

namespace ng::netfilter {

namespace guard_detail {

inline constexpr char kComponent[] = "netfilter";

// Log lines and events name at most 20 chains or kinds.
inline std::string join(const std::vector<std::string>& v, std::string_view sep, size_t max = 20) {
  return core::join(v, sep, max);
}

inline std::vector<std::string> kinds_of(const std::vector<DriftFinding>& drift) {
  std::vector<std::string> out;
  for (const auto& f : drift) {
    std::string k(to_string(f.kind));
    if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
  }
  return out;
}

inline std::vector<std::string> chains_of(const std::vector<DriftFinding>& drift) {
  std::vector<std::string> out;
  for (const auto& f : drift) {
    if (!f.chain.empty() && std::find(out.begin(), out.end(), f.chain) == out.end()) {
      out.push_back(f.chain);
    }
  }
  return out;
}

inline double seconds(core::Duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace guard_detail

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
  FightTracker fight;
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

}  // namespace ng::netfilter
