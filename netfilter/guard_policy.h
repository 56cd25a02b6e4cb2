#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "netfilter/rule_model.h"

namespace ng::netfilter {

// Which chains the guard owns. A user chain is guarded when its name matches one of the
// table's patterns ('*' matches any run of characters) and it is not a canary: other owners'
// canaries (KUBE-PROXY-CANARY, KUBE-KUBELET-CANARY) must see a flush to resync, and the agent's
// own canary is handled apart. A rule is guarded when it lives in a guarded chain, or lives in
// a built-in chain and jumps (-j/-g) to a guarded chain.
//
// Write-once chains (default CNI-*) are written whole by their owner and never edited in place
// (the CNI plugins create them on ADD and delete them on DEL), so a rule missing from one that
// still exists is drift. Other guarded chains (KUBE-*, cali-*) are rewritten by their owners;
// rule changes inside them are the owner's business unless they orphan a guarded chain.
class GuardPolicy {
 public:
  static constexpr std::string_view kCanary = "NODEGUARD-CANARY";

  GuardPolicy() = default;
  GuardPolicy(std::map<std::string, std::vector<std::string>> patterns,
              std::vector<std::string> write_once = {"CNI-*"});

  std::vector<std::string> tables() const;
  bool guards_table(std::string_view table) const { return patterns_.count(std::string(table)); }
  bool is_guarded_chain(std::string_view table, std::string_view chain) const;
  bool is_write_once(std::string_view chain) const;
  static bool is_foreign_canary(std::string_view chain);

  // A copy of `full` holding only what the guard keeps in a snapshot: built-in chains (all their
  // rules, for positions; only the jumps are guarded), guarded user chains, and the canary.
  Table project(const Table& full) const;
  // Rules a snapshot guards: rules of guarded chains plus jumps from built-ins into them.
  size_t guarded_rule_count(const Table& projected) const;
  size_t guarded_chain_count(const Table& projected) const;
  // A rule of built-in chain that jumps to a guarded chain of this table.
  bool is_guarded_jump(std::string_view table, const Rule& r) const;

 private:
  std::map<std::string, std::vector<std::string>> patterns_;
  std::vector<std::string> write_once_;
};

// Shell-style match where '*' is the only wildcard.
bool glob_match(std::string_view pattern, std::string_view name);

}  // namespace ng::netfilter
