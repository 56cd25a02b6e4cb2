#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "core/clock.h"
#include "netfilter/guard.h"
#include "netfilter/snapshot_trust.h"
#include "netfilter/xtables_lock.h"

namespace ng::netfilter {

// Everything a repair needs on a worker, copied off the loop: the worker never touches the guard.
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

// Worker side of every repair: under the xtables lock, re-read when the table may have moved
// since the check, assess, plan, commit once, read back and verify.
RepairOutcome run_repair_job(RepairJob& j);

}  // namespace ng::netfilter
