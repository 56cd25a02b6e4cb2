#pragma once

#include <string>
#include <vector>

#include "netfilter/guard_policy.h"
#include "netfilter/rule_model.h"

namespace ng::netfilter {

// The writes that turn a table into its expected state, touching only what the guard owns:
// guarded user chains are written whole (created, or flushed and refilled), built-in chains get
// single deletes and inserts of guarded jumps at exact positions, policies are set only when
// asked. One plan is one atomic commit (one iptables-restore --noflush, or one iptc_commit).
struct ChainWrite {
  std::string name;
  bool create = false;  // false: the chain exists and is flushed and refilled
  std::vector<Rule> rules;
};

struct BuiltinEdit {
  enum class Op { kDelete, kInsert };
  Op op = Op::kInsert;
  std::string chain;
  size_t position = 1;  // 1-based, in the chain as it is when this edit runs
  bool append = false;  // insert at the end (position == length + 1)
  Rule rule;            // the rule deleted or inserted
};

struct PolicySet {
  std::string chain;
  std::string policy;
};

struct TablePlan {
  std::string table;
  std::vector<ChainWrite> chains;
  std::vector<BuiltinEdit> edits;
  std::vector<PolicySet> policies;

  bool empty() const { return chains.empty() && edits.empty() && policies.empty(); }
  size_t rules_written() const;
  // One line per change, for logs, events and the Repair RPC: "create chain CNI-DN-1 (2 rules)",
  // "insert PREROUTING 1: -m addrtype ... -j CNI-HOSTPORT-DNAT", "policy FORWARD ACCEPT".
  std::vector<std::string> describe() const;
  std::vector<std::string> chain_names() const;  // chains touched
};

// Requires that expected's built-in chains hold the same unowned rules, in the same order, as
// current's (assess() guarantees it). Policies are set only when set_policies is true.
TablePlan plan_repair(const Table& expected, const Table& current, const GuardPolicy& policy,
                      bool set_policies);

// The plan as iptables-restore --noflush input (one table, ending in COMMIT).
std::string render_restore(const TablePlan& plan);

// What is still wrong after a commit: empty when `actual` holds every guarded chain of
// `expected` with the same rules and every guarded built-in jump in the same order.
std::vector<std::string> verify_applied(const Table& expected, const Table& actual,
                                        const GuardPolicy& policy, bool check_policies);

}  // namespace ng::netfilter
