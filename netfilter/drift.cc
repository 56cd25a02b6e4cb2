#include "netfilter/drift.h"

#include <algorithm>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "netfilter/rule_provenance.h"

namespace ng::netfilter {

bool is_foreign_rule(std::string_view chain, bool builtin, const Rule& r, const AssessOptions& opts,
                     ForeignRule* out) {
  Provenance p = explain_rule(chain, builtin, r);
  if (p.explained && !p.container_id.empty() && opts.unvouched &&
      opts.unvouched->count(p.container_id)) {
    p.explained = false;
    p.why = "the CNI cache does not vouch for its container";
  }
  if (p.explained) return false;
  if (out) *out = ForeignRule{std::string(chain), r.spec, std::string(p.owner), std::string(p.why)};
  return true;
}

std::string_view to_string(DriftKind k) {
  switch (k) {
    case DriftKind::kFlush:
      return "flush";
    case DriftKind::kChainMissing:
      return "chain_missing";
    case DriftKind::kRuleMissing:
      return "rule_missing";
    case DriftKind::kRuleReordered:
      return "rule_reordered";
    case DriftKind::kPolicyChanged:
      return "policy_changed";
  }
  return "unknown";
}

namespace {

constexpr size_t kNone = static_cast<size_t>(-1);

// Which rule of the current chain each snapshot rule corresponds to (merge_rules' first half).
struct RuleMatch {
  const std::vector<Rule>& cur;
  const std::vector<Rule>& ref;
  const std::function<bool(const Rule&)>& ours;
  // Positions in cur per spec, split into ours and unowned.
  std::unordered_map<std::string_view, std::vector<size_t>> ours_at, other_at;
  std::vector<size_t> match;      // per ref rule: its position in cur, or kNone
  std::vector<bool> cur_matched;  // per cur rule
  std::vector<bool> drop;         // per cur rule: ours, out of order, moved to its place

  RuleMatch(const std::vector<Rule>& c, const std::vector<Rule>& r,
            const std::function<bool(const Rule&)>& o)
      : cur(c),
        ref(r),
        ours(o),
        match(r.size(), kNone),
        cur_matched(c.size(), false),
        drop(c.size(), false) {
    for (size_t j = 0; j < cur.size(); ++j) {
      (ours(cur[j]) ? ours_at : other_at)[cur[j].spec].push_back(j);
    }
  }

  // Our rules: greedy forward subsequence match (order matters for them).
  void match_ours() {
    size_t last = 0;
    bool any = false;
    for (size_t i = 0; i < ref.size(); ++i) {
      if (!ours(ref[i])) continue;
      auto it = ours_at.find(ref[i].spec);
      if (it == ours_at.end()) continue;
      auto& v = it->second;
      auto pos = any ? std::upper_bound(v.begin(), v.end(), last) : v.begin();
      while (pos != v.end() && cur_matched[*pos]) ++pos;
      if (pos == v.end()) continue;
      match[i] = *pos;
      cur_matched[*pos] = true;
      last = *pos;
      any = true;
    }
  }

  // Unowned rules: any unused occurrence; they only serve as anchors.
  void match_unowned() {
    std::unordered_map<std::string_view, size_t> used_of;
    for (size_t i = 0; i < ref.size(); ++i) {
      if (ours(ref[i])) continue;
      auto it = other_at.find(ref[i].spec);
      if (it == other_at.end()) continue;
      size_t& used = used_of[ref[i].spec];
      if (used < it->second.size()) {
        match[i] = it->second[used++];
        cur_matched[match[i]] = true;
      }
    }
  }

  // Ours to restore that exist elsewhere in cur, out of order: move them.
  void drop_misplaced(const std::vector<bool>& restore, std::vector<std::string>* reordered) {
    for (size_t i = 0; i < ref.size(); ++i) {
      if (match[i] != kNone || !restore[i] || !ours(ref[i])) continue;
      auto it = ours_at.find(ref[i].spec);
      if (it == ours_at.end()) continue;
      for (size_t j : it->second) {
        if (!cur_matched[j] && !drop[j]) {
          drop[j] = true;
          if (reordered) reordered->push_back(ref[i].spec);
          break;
        }
      }
    }
  }
};

// The current chain without the dropped rules, with each snapshot rule to restore inserted
// after the previous placed one (merge_rules' second half).
std::vector<Rule> insert_restored(const RuleMatch& m, const std::vector<bool>& restore) {
  const auto& cur = m.cur;
  const auto& ref = m.ref;
  std::list<Rule> out;
  std::vector<std::list<Rule>::iterator> at_cur(cur.size());
  for (size_t j = 0; j < cur.size(); ++j) {
    if (m.drop[j]) continue;
    out.push_back(cur[j]);
    at_cur[j] = std::prev(out.end());
  }
  // next_placed[i]: the first ref index >= i matched in cur (insertions only happen before it).
  std::vector<size_t> next_placed(ref.size() + 1, kNone);
  for (size_t i = ref.size(); i-- > 0;) {
    next_placed[i] = m.match[i] != kNone ? i : next_placed[i + 1];
  }
  bool only_ours_before = true;
  std::list<Rule>::iterator prev_placed = out.end();
  bool have_prev = false;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (m.match[i] != kNone) {
      prev_placed = at_cur[m.match[i]];
      have_prev = true;
    } else if (restore[i]) {
      std::list<Rule>::iterator where;
      if (have_prev) {
        where = std::next(prev_placed);
      } else if (next_placed[i] != kNone) {
        where = at_cur[m.match[next_placed[i]]];
      } else {
        where = only_ours_before ? out.begin() : out.end();
      }
      Rule r = ref[i];
      r.counters.clear();
      prev_placed = out.insert(where, std::move(r));
      have_prev = true;
    }
    if (!m.ours(ref[i])) only_ours_before = false;
  }
  return {std::make_move_iterator(out.begin()), std::make_move_iterator(out.end())};
}

}  // namespace

std::vector<Rule> merge_rules(const std::vector<Rule>& cur, const std::vector<Rule>& ref,
                              const std::vector<bool>& restore,
                              const std::function<bool(const Rule&)>& ours,
                              std::vector<std::string>* reordered) {
  RuleMatch m(cur, ref, ours);
  m.match_ours();
  m.match_unowned();
  m.drop_misplaced(restore, reordered);
  return insert_restored(m, restore);
}

namespace {

using SpecCount = std::unordered_map<std::string_view, int>;

SpecCount count_specs(const std::vector<Rule>& rules) {
  SpecCount c;
  for (const auto& r : rules) ++c[r.spec];
  return c;
}

// The foreign rules the expected table holds (they are all live: never restored).
void list_foreign(const Table& E, const GuardPolicy& policy, const AssessOptions& opts,
                  Assessment& a) {
  for (const auto& c : E.chains) {
    if (c.name == GuardPolicy::kCanary) continue;
    if (!c.builtin() && !policy.is_guarded_chain(E.name, c.name)) continue;
    for (const auto& r : c.rules) {
      if (c.builtin() && !policy.is_guarded_jump(E.name, r)) continue;
      ForeignRule f;
      if (!is_foreign_rule(c.name, c.builtin(), r, opts, &f)) continue;
      ++a.foreign_total;
      if (a.foreign.size() < Assessment::kMaxForeignListed) a.foreign.push_back(std::move(f));
    }
  }
}

// What assess() works with: L (the snapshot plus what other components expect), the current
// table, and the decisions taken phase by phase.
struct Assessor {
  Assessor(const Table& current, const Table& snapshot, const GuardPolicy& policy,
           const AssessOptions& opts)
      : current(current),
        snapshot(snapshot),
        policy(policy),
        opts(opts),
        tname(current.name.empty() ? snapshot.name : current.name),
        CI(current) {}

  const Table& current;
  const Table& snapshot;
  const GuardPolicy& policy;
  const AssessOptions& opts;
  const std::string& tname;
  // L is the snapshot itself unless a contribution or the table name needs a copy (`own`).
  std::optional<Table> own;
  const Table* Lp = &snapshot;
  std::set<std::pair<std::string, std::string>> required_rules;
  std::set<std::string> required_chains;
  ChainIndex CI;
  // Reference counts of guarded chains, in the current table and in L.
  std::unordered_map<std::string_view, int> refs_cur, refs_l;
  std::string flush_why;
  std::set<std::string> restore_chain;
  std::map<std::string, std::vector<bool>> restore_rule;

  const Table& L() const { return *Lp; }
  Table& mut() {
    if (!own) {
      own = snapshot;
      own->name = tname;
      Lp = &*own;
    }
    return *own;
  }
  bool guarded_user(const Chain& c) const {
    return !c.builtin() && c.name != GuardPolicy::kCanary && policy.is_guarded_chain(tname, c.name);
  }
  bool is_jump(const Rule& r) const { return policy.is_guarded_jump(tname, r); }
  // Not owed: no owner explains it (built-in chains: only guarded jumps are asked about).
  bool foreign(const Chain& c, const Rule& r) const {
    if (c.builtin() ? !is_jump(r) : !policy.is_guarded_chain(tname, c.name)) return false;
    return is_foreign_rule(c.name, c.builtin(), r, opts) && !required_rules.count({c.name, r.spec});
  }
  std::vector<bool>& flags(const Chain& lc) {
    auto& f = restore_rule[lc.name];
    if (f.size() != lc.rules.size()) f.assign(lc.rules.size(), false);
    return f;
  }
  bool will_exist(const std::string& name) const {
    return CI.find(name) != nullptr || restore_chain.count(name) > 0;
  }
};

// L: the snapshot plus what other components expect. Copied only when a contribution is not in
// it already (at 10,000 rules the copy costs milliseconds on the way to a repair).
void add_contributions(Assessor& s, const std::vector<ExpectedChain>& contributed) {
  if (s.snapshot.name != s.tname) s.mut();
  for (const auto& ec : contributed) {
    const Chain& pc = ec.chain;
    const Chain* l = s.Lp->find(pc.name);
    const bool builtin = pc.builtin();
    if (!builtin) s.required_chains.insert(pc.name);
    if (!l && builtin) {
      // No snapshot of this built-in chain (a first look): the chain as it is now anchors the
      // contributed jumps, so they land before or after the rules already there.
      const Chain* cur = s.current.find(pc.name);
      Chain b;
      b.name = pc.name;
      b.policy = "ACCEPT";
      s.mut().chains.push_back(cur ? *cur : b);
      l = &s.Lp->chains.back();
    }
    if (!l) {
      s.mut().chains.push_back(pc);
    } else {
      SpecCount have = count_specs(l->rules);
      std::vector<Rule> missing;
      for (const auto& r : pc.rules) {
        if (have[r.spec]-- <= 0) missing.push_back(r);
      }
      if (!missing.empty()) {
        Chain* ml = s.mut().find(pc.name);
        if (builtin && !ec.append) {
          ml->rules.insert(ml->rules.begin(), missing.begin(), missing.end());
        } else {
          ml->rules.insert(ml->rules.end(), missing.begin(), missing.end());
        }
      }
    }
    for (const auto& r : pc.rules) s.required_rules.emplace(pc.name, r.spec);
  }
}

void count_references(Assessor& s) {
  for (const auto& c : s.current.chains) {
    for (const auto& r : c.rules) {
      if (!r.target.empty()) ++s.refs_cur[r.target];
    }
  }
  for (const auto& c : s.L().chains) {
    for (const auto& r : c.rules) {
      if (!r.target.empty()) ++s.refs_l[r.target];
    }
  }
}

// Flush shape: the canary gone, or most guarded chains gone or emptied with no jump left.
void detect_flush(Assessor& s, Assessment& a) {
  size_t jumps = 0, jumps_left = 0, chains_with_rules = 0, chains_gone = 0;
  bool emptied_present = false;
  for (const auto& lc : s.L().chains) {
    if (lc.builtin()) {
      const Chain* cc = s.CI.find(lc.name);
      SpecCount have = cc ? count_specs(cc->rules) : SpecCount{};
      for (const auto& r : lc.rules) {
        if (!s.is_jump(r)) continue;
        ++jumps;
        if (have[r.spec]-- > 0) ++jumps_left;
      }
    } else if (s.guarded_user(lc) && !lc.rules.empty()) {
      ++chains_with_rules;
      const Chain* cc = s.CI.find(lc.name);
      if (!cc || cc->rules.empty()) ++chains_gone;
      if (cc && cc->rules.empty()) emptied_present = true;
    }
  }
  if (s.opts.canary_expected && !a.canary_present) {
    a.flush = true;
    s.flush_why = "canary chain " + std::string(GuardPolicy::kCanary) + " gone";
  } else if (chains_with_rules >= 3 && 2 * chains_gone >= chains_with_rules &&
             (jumps > 0 ? jumps_left == 0 : emptied_present)) {
    a.flush = true;
    s.flush_why = std::to_string(chains_gone) + " of " + std::to_string(chains_with_rules) +
                  " guarded chains gone or emptied and no jump from the built-in chains left";
  }
}

// After a flush: every guarded chain gone or emptied comes back whole; in the others, the rules
// of write-once and required chains.
void mark_flushed(Assessor& s) {
  for (const auto& lc : s.L().chains) {
    if (!s.guarded_user(lc)) continue;
    const Chain* cc = s.CI.find(lc.name);
    if (!cc || (cc->rules.empty() && !lc.rules.empty())) {
      s.restore_chain.insert(lc.name);
    } else if (s.policy.is_write_once(lc.name) || s.required_chains.count(lc.name)) {
      auto& f = s.flags(lc);
      for (size_t i = 0; i < f.size(); ++i) f[i] = !s.foreign(lc, lc.rules[i]);
    }
  }
}

// A guarded chain gone without a flush: restored when required, or when it is an entry chain
// gone while chains it jumped to are still there; otherwise its owner removed it.
void mark_chain_gone(Assessor& s, Assessment& a, const Chain& lc) {
  // Owners tear down from the leaves up: an entry chain (jumped to from a built-in chain)
  // gone while chains it jumped to are still there was not removed by its owner.
  bool entry = false;
  for (const auto& bc : s.L().chains) {
    if (!bc.builtin()) continue;
    for (const auto& r : bc.rules) entry = entry || r.target == lc.name;
  }
  bool children_left = false;
  for (const auto& r : lc.rules) {
    children_left = children_left || (!r.target.empty() && r.target != lc.name &&
                                      s.policy.is_guarded_chain(s.tname, r.target) &&
                                      s.CI.find(r.target) != nullptr);
  }
  if (s.required_chains.count(lc.name) || (entry && children_left)) {
    s.restore_chain.insert(lc.name);
  } else {
    a.accepted.push_back("chain " + lc.name + " removed with every jump into it");
  }
}

// Rules gone from a guarded chain that is still there: restored when required, in write-once
// chains and when they orphan a write-once chain; otherwise removed by their owner.
void mark_rules_gone(Assessor& s, Assessment& a, const Chain& lc, const Chain& cc) {
  SpecCount have = count_specs(cc.rules);
  auto& f = s.flags(lc);
  size_t accepted_removals = 0, foreign_removals = 0;
  for (size_t i = 0; i < lc.rules.size(); ++i) {
    const Rule& r = lc.rules[i];
    if (have[r.spec]-- > 0) continue;
    if (s.foreign(lc, r)) {
      ++foreign_removals;
      continue;
    }
    const bool target_guarded = !r.target.empty() && s.policy.is_guarded_chain(s.tname, r.target);
    const bool target_gone = target_guarded && !s.CI.find(r.target);
    const bool orphaned = target_guarded && !target_gone && s.policy.is_write_once(r.target) &&
                          s.refs_cur[r.target] == 0 && s.refs_l[r.target] > 0;
    if (s.required_rules.count({lc.name, r.spec})) {
      f[i] = true;
    } else if (target_gone) {
      ++accepted_removals;
    } else if (s.policy.is_write_once(lc.name) || orphaned) {
      f[i] = true;
    } else {
      ++accepted_removals;
    }
  }
  if (accepted_removals > 0) {
    a.accepted.push_back(std::to_string(accepted_removals) + " rule(s) removed from " + lc.name +
                         " by its owner");
  }
  if (foreign_removals > 0) {
    a.accepted.push_back(std::to_string(foreign_removals) + " foreign rule(s) removed from " +
                         lc.name + " (no owner explains them: not restored)");
  }
}

void mark_changes(Assessor& s, Assessment& a) {
  for (const auto& lc : s.L().chains) {
    if (!s.guarded_user(lc)) continue;
    if (const Chain* cc = s.CI.find(lc.name)) {
      mark_rules_gone(s, a, lc, *cc);
    } else {
      mark_chain_gone(s, a, lc);
    }
  }
}

// Closure: a restored chain needs the guarded chains it jumps to and the jumps into it.
void close_restored(Assessor& s) {
  const Table& L = s.L();
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& lc : L.chains) {
      if (!s.restore_chain.count(lc.name)) continue;
      for (const auto& r : lc.rules) {
        if (!r.target.empty() && s.policy.is_guarded_chain(s.tname, r.target) &&
            !s.will_exist(r.target) && L.find(r.target) && !s.foreign(lc, r)) {
          s.restore_chain.insert(r.target);
          changed = true;
        }
      }
    }
    for (const auto& lc : L.chains) {
      if (s.restore_chain.count(lc.name)) continue;
      for (size_t i = 0; i < lc.rules.size(); ++i) {
        const Rule& r = lc.rules[i];
        if (r.target.empty() || !s.restore_chain.count(r.target) || s.foreign(lc, r)) continue;
        if (lc.builtin() || s.CI.find(lc.name)) {
          auto& f = s.flags(lc);
          if (!f[i]) {
            f[i] = true;
            changed = true;
          }
        } else if (s.guarded_user(lc)) {
          s.restore_chain.insert(lc.name);
          changed = true;
        }
      }
    }
  }
}

// Jumps from built-in chains: keep them all present and in order while their target lives.
void keep_jumps(Assessor& s, Assessment& a) {
  for (const auto& lc : s.L().chains) {
    if (!lc.builtin()) continue;
    auto& f = s.flags(lc);
    const Chain* cc = s.CI.find(lc.name);
    SpecCount have = cc ? count_specs(cc->rules) : SpecCount{};
    for (size_t i = 0; i < lc.rules.size(); ++i) {
      const Rule& r = lc.rules[i];
      if (!s.is_jump(r)) continue;
      const bool present = have[r.spec]-- > 0;
      if (s.foreign(lc, r)) {
        if (!present && !a.flush) {
          a.accepted.push_back("foreign jump " + lc.name + " -> " + r.target + " removed");
        }
      } else if (present || s.will_exist(r.target)) {
        f[i] = true;
      } else if (!a.flush) {
        a.accepted.push_back("jump " + lc.name + " -> " + r.target + " removed with its chain");
      }
    }
  }
}

// Chains to restore go into the expected table whole, less their foreign rules.
void restore_chains(const Assessor& s, Assessment& a, Table& E) {
  for (const auto& lc : s.L().chains) {
    if (!s.restore_chain.count(lc.name)) continue;
    Chain restored = lc;
    std::erase_if(restored.rules, [&](const Rule& r) { return s.foreign(lc, r); });
    for (auto& r : restored.rules) r.counters.clear();
    restored.counters.clear();
    if (Chain* e = E.find(lc.name)) {
      *e = std::move(restored);
    } else {
      E.chains.push_back(std::move(restored));
    }
    if (!a.flush) a.drift.push_back({DriftKind::kChainMissing, lc.name, "", ""});
  }
}

// Rules to restore are merged into the chains as they are, in the snapshot's order.
void restore_rules(const Assessor& s, Assessment& a, Table& E) {
  for (const auto& lc : s.L().chains) {
    if (s.restore_chain.count(lc.name)) continue;
    auto it = s.restore_rule.find(lc.name);
    if (it == s.restore_rule.end()) continue;
    const auto& f = it->second;
    if (std::find(f.begin(), f.end(), true) == f.end()) continue;
    Chain* e = E.find(lc.name);
    if (!e) {
      if (!lc.builtin()) continue;
      Chain b;
      b.name = lc.name;
      b.policy = lc.policy;
      E.chains.push_back(std::move(b));
      e = &E.chains.back();
    }
    const bool builtin = lc.builtin();
    auto ours = [&](const Rule& r) { return (!builtin || s.is_jump(r)) && !s.foreign(lc, r); };
    std::vector<std::string> moved;
    std::vector<Rule> merged = merge_rules(e->rules, lc.rules, f, ours, &moved);
    SpecCount before = count_specs(e->rules);  // views into e->rules: replace it only after use
    if (!a.flush) {
      for (const auto& spec : moved) {
        a.drift.push_back({DriftKind::kRuleReordered, lc.name, spec, ""});
      }
      std::unordered_set<std::string> moved_set(moved.begin(), moved.end());
      for (size_t i = 0; i < lc.rules.size(); ++i) {
        if (!f[i]) continue;
        if (before[lc.rules[i].spec]-- > 0) continue;
        if (moved_set.count(lc.rules[i].spec)) continue;
        a.drift.push_back({DriftKind::kRuleMissing, lc.name, lc.rules[i].spec, ""});
      }
    }
    e->rules = std::move(merged);
  }
}

// Policies of built-in chains: DROP where the snapshot had ACCEPT is told, and repaired only
// when configured; the snapshot keeps the good policy so the report stays until it is fixed.
void keep_policies(const Assessor& s, Assessment& a, Table& E) {
  for (auto& e : E.chains) {
    if (!e.builtin()) continue;
    const Chain* lc = s.L().find(e.name);
    const Chain* cc = s.CI.find(e.name);
    if (!lc || !cc || !lc->builtin()) continue;
    if (lc->policy == "ACCEPT" && cc->policy == "DROP") {
      DriftFinding f{DriftKind::kPolicyChanged, e.name, "",
                     "policy " + lc->policy + " -> " + cc->policy};
      if (s.opts.restore_policies) {
        a.drift.push_back(f);
      } else {
        a.reports.push_back(f);
      }
      e.policy = lc->policy;
    }
  }
}

// Our canary goes wherever there is something to guard.
void add_canary(const Assessor& s, Table& E) {
  if (s.opts.want_canary && !E.has(GuardPolicy::kCanary) &&
      (s.policy.guarded_chain_count(E) > 0 || s.policy.guarded_rule_count(E) > 0)) {
    Chain canary;
    canary.name = std::string(GuardPolicy::kCanary);
    E.chains.push_back(std::move(canary));
  }
}

// A flush is one finding ahead of the rest; the signature (fight detection) leaves it out.
void sign(const Assessor& s, Assessment& a) {
  if (a.flush) {
    DriftFinding f{DriftKind::kFlush, "", "", s.flush_why};
    a.drift.insert(a.drift.begin(), f);
  }
  for (const auto& f : a.drift) {
    if (f.kind == DriftKind::kFlush) continue;
    a.signature += std::string(to_string(f.kind)) + " " + f.chain + " " + f.rule + "\n";
  }
}

}  // namespace

Assessment assess(const Table& current, const Table& snapshot,
                  const std::vector<ExpectedChain>& contributed, const GuardPolicy& policy,
                  const AssessOptions& opts) {
  Assessment a;
  Assessor s(current, snapshot, policy, opts);
  add_contributions(s, contributed);
  a.canary_present = s.CI.find(GuardPolicy::kCanary) != nullptr;
  count_references(s);
  detect_flush(s, a);
  if (a.flush) {
    mark_flushed(s);
  } else {
    mark_changes(s, a);
  }
  close_restored(s);
  keep_jumps(s, a);
  // The expected table: current, guarded projection, with the drift undone.
  Table E = policy.project(current);
  E.name = s.tname;
  restore_chains(s, a, E);
  restore_rules(s, a, E);
  keep_policies(s, a, E);
  add_canary(s, E);
  list_foreign(E, policy, opts, a);
  sign(s, a);
  a.expected = std::move(E);
  return a;
}

}  // namespace ng::netfilter
