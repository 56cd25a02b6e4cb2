#pragma once

#include <gtest/gtest.h>

#include <algorithm>

#include <string>
#include <vector>

#include "netfilter/drift.h"
#include "netfilter/guard_policy.h"
#include "netfilter/repair_plan.h"
#include "netfilter/save_codec.h"
#include "tests/fakes/fake_netfilter_backend.h"
#include "tests/unit/netfilter/test_data.h"

namespace ng::testing {

inline netfilter::GuardPolicy default_guard_policy() {
  return netfilter::GuardPolicy(
      {{"nat", {"CNI-HOSTPORT-*", "CNI-DN-*", "CNI-*", "KUBE-*", "cali-*"}},
       {"filter", {"CNI-*", "KUBE-*", "cali-*"}},
       {"mangle", {"KUBE-*", "cali-*"}}});
}

// The guarded lines of a table in order: what must come back identical after a repair.
// Built-in chains in order, then user chains by name (as iptables-save lists them).
inline std::vector<std::string> guarded_lines(const netfilter::Table& table,
                                              const netfilter::GuardPolicy& p) {
  std::vector<std::string> out;
  netfilter::Table t = table;
  std::stable_sort(t.chains.begin(), t.chains.end(), [](const auto& a, const auto& b) {
    if (a.builtin() != b.builtin()) return a.builtin();
    return !a.builtin() && a.name < b.name;
  });
  for (const auto& c : t.chains) {
    for (const auto& r : c.rules) {
      const bool guarded =
          c.builtin() ? p.is_guarded_jump(t.name, r) : p.is_guarded_chain(t.name, c.name);
      if (guarded) out.push_back(netfilter::render_rule(c.name, r));
    }
  }
  return out;
}
// Everything else: unowned chains, their rules, other rules of built-in chains, policies.
inline std::vector<std::string> unowned_lines(const netfilter::Table& t,
                                              const netfilter::GuardPolicy& p) {
  std::vector<std::string> out;
  for (const auto& c : t.chains) {
    if (c.builtin()) out.push_back(":" + c.name + " " + c.policy);
    if (!c.builtin() &&
        (p.is_guarded_chain(t.name, c.name) || c.name == netfilter::GuardPolicy::kCanary)) {
      continue;
    }
    if (!c.builtin()) out.push_back(":" + c.name);
    for (const auto& r : c.rules) {
      if (c.builtin() && p.is_guarded_jump(t.name, r)) continue;
      out.push_back(netfilter::render_rule(c.name, r));
    }
  }
  return out;
}

// A fake node loaded with a real dump, and the guard's view of it.
class GuardFixture : public ::testing::Test {
 protected:
  using Family = netfilter::Family;
  static constexpr Family kV4 = Family::kIPv4;

  void load(const std::string& file, Family f = kV4) { fake.load(f, netfilter_data(file)); }
  netfilter::Table read(const std::string& table, Family f = kV4) {
    auto t = fake.read(f, table);
    EXPECT_TRUE(t.ok());
    return *t;
  }
  void restore(const std::string& text, Family f = kV4) {
    auto st = fake.apply_restore(f, text);
    ASSERT_TRUE(st.ok()) << st.error().message;
  }
  // First look: the snapshot is the current state; the canary gets created.
  netfilter::Table take_snapshot(const std::string& table, Family f = kV4) {
    auto cur = read(table, f);
    netfilter::AssessOptions o;
    auto a = netfilter::assess(cur, netfilter::Table{}, {}, policy, o);
    EXPECT_FALSE(a.has_drift());
    auto plan = netfilter::plan_repair(a.expected, cur, policy, false);
    EXPECT_TRUE(fake.commit(f, plan).ok());
    return a.expected;
  }
  netfilter::Assessment check(const std::string& table, const netfilter::Table& snap,
                              bool restore_policies = false,
                              const std::vector<netfilter::ExpectedChain>& contributed = {},
                              Family f = kV4) {
    netfilter::AssessOptions o;
    o.canary_expected = snap.has(netfilter::GuardPolicy::kCanary);
    o.restore_policies = restore_policies;
    return netfilter::assess(read(table, f), snap, contributed, policy, o);
  }
  // Plans and commits the repair; returns the restore text.
  std::string repair(const netfilter::Assessment& a, const std::string& table,
                     bool restore_policies = false, Family f = kV4) {
    auto cur = read(table, f);
    auto plan = netfilter::plan_repair(a.expected, cur, policy, restore_policies);
    auto st = fake.commit(f, plan);
    EXPECT_TRUE(st.ok()) << st.error().message << "\n" << netfilter::render_restore(plan);
    auto after = read(table, f);
    auto problems = netfilter::verify_applied(a.expected, after, policy, restore_policies);
    EXPECT_TRUE(problems.empty()) << problems.front();
    return netfilter::render_restore(plan);
  }

  FakeNetfilterBackend fake;
  netfilter::GuardPolicy policy = default_guard_policy();
};

}  // namespace ng::testing
