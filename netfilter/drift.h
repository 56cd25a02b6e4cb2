#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "netfilter/guard_policy.h"
#include "netfilter/rule_model.h"

namespace ng::netfilter {

enum class DriftKind { kFlush, kChainMissing, kRuleMissing, kRuleReordered, kPolicyChanged };
std::string_view to_string(DriftKind k);  // flush | chain_missing | rule_missing | ...

struct DriftFinding {
  DriftKind kind = DriftKind::kRuleMissing;
  std::string chain;
  std::string rule;    // the rule spec, empty for chain-level findings
  std::string detail;  // words: "policy ACCEPT -> DROP", "canary chain gone"
};

struct AssessOptions {
  bool canary_expected = false;   // we created our canary in this table earlier
  bool want_canary = true;        // expected table should hold the canary (false in dry-run)
  bool restore_policies = false;  // a built-in policy flipped to DROP is repaired, not only told
  // Container ids whose CNI comments the CNI cache no longer vouches for (Guard's
  // ContainerVouch); rules carrying them count as foreign. Null: every CNI comment is trusted.
  std::shared_ptr<const std::set<std::string>> unvouched;
  bool operator==(const AssessOptions& o) const {
    return canary_expected == o.canary_expected && want_canary == o.want_canary &&
           restore_policies == o.restore_policies &&
           (unvouched && o.unvouched ? *unvouched == *o.unvouched : unvouched == o.unvouched);
  }
};

// A rule in a guarded chain (or a jump into one) that no owner explains (rule_provenance.h):
// kept where it is, reported, never restored.
struct ForeignRule {
  std::string chain;
  std::string rule;   // the spec after "-A CHAIN"
  std::string owner;  // whose chain it sits in: portmap | bridge | kube-proxy | calico
  std::string why;
};

// Whether assess() treats a rule as foreign (not owed): unexplained by its chain's owner, or
// carrying the CNI comment of a container in opts.unvouched.
bool is_foreign_rule(std::string_view chain, bool builtin, const Rule& r, const AssessOptions& opts,
                     ForeignRule* out = nullptr);

// The verdict on one read of a table against the last-known-good snapshot.
struct Assessment {
  bool flush = false;
  bool canary_present = false;
  std::vector<DriftFinding> drift;    // what a repair must undo
  std::vector<DriftFinding> reports;  // observed and told, not repaired (policy DROP)
  std::vector<std::string> accepted;  // legitimate changes taken into the snapshot, in words
  // Foreign rules in the expected table (at most kMaxForeignListed; foreign_total counts all).
  static constexpr size_t kMaxForeignListed = 64;
  std::vector<ForeignRule> foreign;
  size_t foreign_total = 0;
  // The guarded projection the table should hold: the current table with the drift undone.
  // It becomes the next last-known-good snapshot (policies: the good ones are kept).
  Table expected;
  // Non-flush drift as one stable string: the same writer removing the same rules again gives
  // the same signature (fight detection).
  std::string signature;

  bool has_drift() const { return !drift.empty(); }
};

// A chain another component expects in a table (see Guard::add_expected_rules_provider): a user
// chain with its rules, or a built-in chain holding jumps into user chains. `append` says where
// a missing rule of a built-in chain goes when the snapshot has nothing to anchor it on: after
// the rules already there (portmap appends its PREROUTING/OUTPUT jump) or before them (its
// POSTROUTING jump). Rules missing from a user chain are always appended.
struct ExpectedChain {
  Chain chain;
  bool append = false;
  // What assess() reads of it (rules compare by spec; counters do not matter).
  bool operator==(const ExpectedChain& o) const {
    return append == o.append && chain.name == o.chain.name && chain.policy == o.chain.policy &&
           chain.rules == o.chain.rules;
  }
};

// Compares a full read of a table with the snapshot (a GuardPolicy::project() of an earlier
// read) plus chains other components expect (`contributed`; always repaired when missing). The
// rule:
//
//  * Flush: our canary chain is gone (when we had created it), or every jump from the built-in
//    chains into guarded chains is gone and at least half (and at least 3) of the guarded chains
//    that had rules are gone or empty (what `iptables -F` leaves). Everything in the snapshot
//    comes back.
//  * Otherwise a guarded chain that vanished together with every jump into it was removed by
//    its owner (a pod deleted removes its CNI-DN-* chain): accepted. Drift is a jump from a
//    built-in chain gone while its target chain is still there, guarded jumps out of order, a
//    rule missing from a write-once chain that still exists, a rule whose removal leaves a
//    guarded chain unreferenced, and anything contributed that is missing. Restoring a chain
//    brings back the chains it jumps to and the jumps into it (closure).
//  * New rules and chains are always accepted.
//  * Foreign rules (no owner explains them, rule_provenance.h) are never owed: taken into the
//    snapshot as anchors for positions, listed in `foreign`, but not restored when they go, not
//    even after a flush.
Assessment assess(const Table& current, const Table& snapshot,
                  const std::vector<ExpectedChain>& contributed, const GuardPolicy& policy,
                  const AssessOptions& opts);

// Merges `ref` rules into `cur` at anchored positions: each ref rule marked in `restore` that
// `cur` lacks is inserted after the nearest earlier ref rule present in the result, else before
// the nearest later one, else at the top when only guarded rules preceded it in ref, else at the
// bottom. Rules of ours (`ours`) found out of order are moved. Unowned rules are never touched.
// `reordered` (optional) receives the specs that were moved.
std::vector<Rule> merge_rules(const std::vector<Rule>& cur, const std::vector<Rule>& ref,
                              const std::vector<bool>& restore,
                              const std::function<bool(const Rule&)>& ours,
                              std::vector<std::string>* reordered = nullptr);

}  // namespace ng::netfilter
