#include "netfilter/repair_plan.h"

#include <algorithm>
#include <unordered_map>

#include "netfilter/save_codec.h"

namespace ng::netfilter {

size_t TablePlan::rules_written() const {
  size_t n = 0;
  for (const auto& c : chains) n += c.rules.size();
  for (const auto& e : edits) n += e.op == BuiltinEdit::Op::kInsert;
  return n;
}

std::vector<std::string> TablePlan::describe() const {
  std::vector<std::string> out;
  for (const auto& c : chains) {
    out.push_back(std::string(c.create ? "create" : "rewrite") + " chain " + c.name + " (" +
                  std::to_string(c.rules.size()) + " rules)");
  }
  for (const auto& e : edits) {
    if (e.op == BuiltinEdit::Op::kDelete) {
      out.push_back("delete " + e.chain + " " + std::to_string(e.position) + ": " + e.rule.spec);
    } else if (e.append) {
      out.push_back("append " + e.chain + ": " + e.rule.spec);
    } else {
      out.push_back("insert " + e.chain + " " + std::to_string(e.position) + ": " + e.rule.spec);
    }
  }
  for (const auto& p : policies) out.push_back("policy " + p.chain + " " + p.policy);
  return out;
}

std::vector<std::string> TablePlan::chain_names() const {
  std::vector<std::string> out;
  auto add = [&](const std::string& n) {
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  };
  for (const auto& c : chains) add(c.name);
  for (const auto& e : edits) add(e.chain);
  for (const auto& p : policies) add(p.chain);
  return out;
}

TablePlan plan_repair(const Table& expected, const Table& current, const GuardPolicy& policy,
                      bool set_policies) {
  TablePlan plan;
  plan.table = expected.name;
  ChainIndex CI(current);
  const std::string& t = expected.name;
  for (const auto& e : expected.chains) {
    if (e.builtin()) continue;
    const Chain* c = CI.find(e.name);
    if (!c) {
      plan.chains.push_back({e.name, true, e.rules});
    } else if (c->rules != e.rules) {
      plan.chains.push_back({e.name, false, e.rules});
    }
  }
  for (const auto& e : expected.chains) {
    if (!e.builtin()) continue;
    const Chain* c = CI.find(e.name);
    static const std::vector<Rule> kEmpty;
    const std::vector<Rule>& cur = c ? c->rules : kEmpty;
    auto ours = [&](const Rule& r) { return policy.is_guarded_jump(t, r); };
    // Match our rules of cur and expected as ordered subsequences, greedily.
    std::unordered_map<std::string_view, std::vector<size_t>> at;
    for (size_t j = 0; j < cur.size(); ++j) {
      if (ours(cur[j])) at[cur[j].spec].push_back(j);
    }
    std::vector<bool> cur_kept(cur.size(), false);
    std::vector<bool> exp_matched(e.rules.size(), false);
    size_t last = 0;
    bool any = false;
    for (size_t i = 0; i < e.rules.size(); ++i) {
      if (!ours(e.rules[i])) continue;
      auto it = at.find(e.rules[i].spec);
      if (it == at.end()) continue;
      auto& v = it->second;
      auto pos = any ? std::upper_bound(v.begin(), v.end(), last) : v.begin();
      while (pos != v.end() && cur_kept[*pos]) ++pos;
      if (pos == v.end()) continue;
      cur_kept[*pos] = true;
      exp_matched[i] = true;
      last = *pos;
      any = true;
    }
    std::vector<const Rule*> sim;
    for (size_t j = cur.size(); j-- > 0;) {
      if (ours(cur[j]) && !cur_kept[j]) {
        plan.edits.push_back({BuiltinEdit::Op::kDelete, e.name, j + 1, false, cur[j]});
      }
    }
    for (size_t j = 0; j < cur.size(); ++j) {
      if (!ours(cur[j]) || cur_kept[j]) sim.push_back(&cur[j]);
    }
    for (size_t i = 0; i < e.rules.size(); ++i) {
      if (ours(e.rules[i]) && !exp_matched[i]) {
        BuiltinEdit ed{BuiltinEdit::Op::kInsert, e.name, i + 1, i == sim.size(), e.rules[i]};
        ed.rule.counters.clear();
        plan.edits.push_back(std::move(ed));
        sim.insert(sim.begin() + static_cast<std::ptrdiff_t>(std::min(i, sim.size())), &e.rules[i]);
      }
    }
    if (set_policies && c && e.policy != c->policy &&
        (e.policy == "ACCEPT" || e.policy == "DROP")) {
      plan.policies.push_back({e.name, e.policy});
    }
  }
  return plan;
}

std::string render_restore(const TablePlan& plan) {
  std::string out = "*" + plan.table + "\n";
  for (const auto& c : plan.chains) out += ":" + c.name + " - [0:0]\n";
  for (const auto& p : plan.policies) out += ":" + p.chain + " " + p.policy + " [0:0]\n";
  for (const auto& c : plan.chains) {
    for (const auto& r : c.rules) out += render_rule(c.name, r) + "\n";
  }
  for (const auto& e : plan.edits) {
    if (e.op == BuiltinEdit::Op::kDelete) {
      out += "-D " + e.chain + " " + std::to_string(e.position) + "\n";
    } else if (e.append) {
      out += render_rule(e.chain, e.rule) + "\n";
    } else {
      out += "-I " + e.chain + " " + std::to_string(e.position);
      if (!e.rule.spec.empty()) out += " " + e.rule.spec;
      out += "\n";
    }
  }
  out += "COMMIT\n";
  return out;
}

std::vector<std::string> verify_applied(const Table& expected, const Table& actual,
                                        const GuardPolicy& policy, bool check_policies) {
  std::vector<std::string> problems;
  ChainIndex AI(actual);
  const std::string& t = expected.name;
  for (const auto& e : expected.chains) {
    const Chain* a = AI.find(e.name);
    if (!e.builtin()) {
      if (!a) {
        problems.push_back("chain " + e.name + " missing");
      } else if (a->rules != e.rules) {
        problems.push_back("chain " + e.name + " holds " + std::to_string(a->rules.size()) +
                           " rules, want " + std::to_string(e.rules.size()));
      }
      continue;
    }
    std::vector<std::string_view> want, have;
    for (const auto& r : e.rules) {
      if (policy.is_guarded_jump(t, r)) want.push_back(r.spec);
    }
    if (a) {
      for (const auto& r : a->rules) {
        if (policy.is_guarded_jump(t, r)) have.push_back(r.spec);
      }
    }
    // Our jumps, in our order; others may have added more of their own.
    size_t k = 0;
    for (size_t j = 0; j < have.size() && k < want.size(); ++j) k += have[j] == want[k];
    if (k != want.size()) problems.push_back("jumps in " + e.name + " missing or out of order");
    if (check_policies && a && a->policy != e.policy) {
      problems.push_back("policy of " + e.name + " is " + a->policy + ", want " + e.policy);
    }
  }
  return problems;
}

}  // namespace ng::netfilter
