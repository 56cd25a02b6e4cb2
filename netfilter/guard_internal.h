#pragma once

// Shared by the guard's source files (guard*.cc) only: the per-table state and the small text
// helpers of the log lines and events. Not part of the guard's API.

#include <algorithm>
#include <map>
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

// Attribution (issue 19): who wrote the table the guard found broken.
inline constexpr char kLegacyWriterUnknown[] =
    "writer unknown (legacy iptables has no change record)";
inline constexpr char kNftWriterUnknown[] =
    "writer unknown (no nftables generation named a process for this table)";

inline std::string writer_unknown_text(BackendKind b) {
  return b == BackendKind::kLegacy ? kLegacyWriterUnknown : kNftWriterUnknown;
}

// " by iptables-nft (pid 4242, unit kubelet.service)" or "; writer unknown (...)".
inline std::string writer_phrase(BackendKind b, const std::optional<ChangeWriter>& w) {
  if (!w || !w->known()) return "; " + writer_unknown_text(b);
  std::string s =
      " by " + (w->comm.empty() ? std::string("pid") : w->comm) + " (pid " + std::to_string(w->pid);
  if (!w->unit.empty()) s += ", unit " + w->unit;
  if (!w->container.empty()) s += ", container " + w->container.substr(0, 12);
  return s + ")";
}

// writer_pid, writer_comm (and writer_unit, writer_container when known) for a log line; for
// an unknown writer, writer: the reason it is unknown.
inline void add_writer_fields(std::vector<core::LogField>& f, BackendKind b,
                              const std::optional<ChangeWriter>& w) {
  if (!w || !w->known()) {
    f.emplace_back("writer", writer_unknown_text(b));
    return;
  }
  f.emplace_back("writer_pid", w->pid);
  f.emplace_back("writer_comm", w->comm);
  if (!w->unit.empty()) f.emplace_back("writer_unit", w->unit);
  if (!w->container.empty()) f.emplace_back("writer_container", w->container);
}

// The same as event attributes.
inline void add_writer_attributes(std::map<std::string, std::string>& a, BackendKind b,
                                  const std::optional<ChangeWriter>& w) {
  if (!w || !w->known()) {
    a["writer"] = writer_unknown_text(b);
    return;
  }
  a["writer_pid"] = std::to_string(w->pid);
  a["writer_comm"] = w->comm;
  if (!w->unit.empty()) a["writer_unit"] = w->unit;
  if (!w->container.empty()) a["writer_container"] = w->container;
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
  std::optional<std::uint64_t> last_info;  // the backend's loop token at the last poll
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
  // Who wrote the table when the last drift was found, and its metric label.
  std::optional<ChangeWriter> drift_writer;
  std::string drift_writer_label = "unknown";
  // iptables-nft-save's note on a native base chain it left out of the last read (mixed modes).
  std::string save_note;
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
