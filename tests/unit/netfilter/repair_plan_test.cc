#include "netfilter/repair_plan.h"

#include <gmock/gmock.h>

#include "tests/unit/netfilter/guard_fixture.h"

namespace ng::netfilter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class Plan : public testing::GuardFixture {};

TEST_F(Plan, NothingToDoWhenTheTableMatches) {
  load("cni-nft-ipv4.save");
  auto snap = take_snapshot("nat");
  auto plan = plan_repair(snap, read("nat"), policy, true);
  EXPECT_TRUE(plan.empty());
  EXPECT_EQ(render_restore(plan), "*nat\nCOMMIT\n");
}

TEST_F(Plan, RestoreTextWritesOnlyGuardedChainsAndJumps) {
  load("cni-nft-ipv4.save");
  auto snap = take_snapshot("nat");
  fake.flush_table(kV4, "nat");
  auto a = check("nat", snap);
  auto plan = plan_repair(a.expected, read("nat"), policy, false);
  const std::string text = render_restore(plan);
  EXPECT_THAT(text, HasSubstr(":CNI-HOSTPORT-DNAT - [0:0]\n"));
  EXPECT_THAT(text, HasSubstr(":NODEGUARD-CANARY - [0:0]\n"));
  EXPECT_THAT(text, Not(HasSubstr("KUBE-PROXY-CANARY")));
  EXPECT_THAT(text, Not(HasSubstr("MY-OWN")));
  EXPECT_THAT(text, Not(HasSubstr("-F ")));
  EXPECT_THAT(text, Not(HasSubstr("-X ")));
  EXPECT_THAT(
      text,
      HasSubstr(
          "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"));
  EXPECT_EQ(text.substr(text.size() - 7), "COMMIT\n");
  EXPECT_GT(plan.rules_written(), 20u);
  EXPECT_FALSE(plan.describe().empty());
}

TEST_F(Plan, DeletesOnlyOurMisplacedJumps) {
  load("cni-nft-ipv4.save");
  auto snap = take_snapshot("nat");
  restore(
      "*nat\n-D PREROUTING 1\n-A PREROUTING -m comment --comment \"kubernetes service portals\" -j "
      "KUBE-SERVICES\nCOMMIT\n");
  auto a = check("nat", snap);
  auto plan = plan_repair(a.expected, read("nat"), policy, false);
  size_t deletes = 0;
  for (const auto& e : plan.edits) {
    if (e.op == BuiltinEdit::Op::kDelete) {
      ++deletes;
      EXPECT_TRUE(policy.is_guarded_jump("nat", e.rule)) << e.rule.spec;
    }
  }
  EXPECT_GE(deletes, 1u);
  ASSERT_TRUE(fake.commit(kV4, plan).ok());
  EXPECT_TRUE(verify_applied(a.expected, read("nat"), policy, false).empty());
}

TEST_F(Plan, VerifyFindsWhatIsStillWrong) {
  load("cni-nft-ipv4.save");
  auto snap = take_snapshot("nat");
  fake.flush_table(kV4, "nat");
  auto problems = verify_applied(snap, read("nat"), policy, false);
  EXPECT_FALSE(problems.empty());
}

TEST_F(Plan, Ipv6LegacyDumpRepairs) {
  load("cni-legacy-ipv6.save", Family::kIPv6);
  auto before = read("nat", Family::kIPv6);
  auto snap = take_snapshot("nat", Family::kIPv6);
  fake.flush_table(Family::kIPv6, "nat");
  auto a = check("nat", snap, false, {}, Family::kIPv6);
  ASSERT_TRUE(a.flush);
  repair(a, "nat", false, Family::kIPv6);
  EXPECT_EQ(testing::guarded_lines(read("nat", Family::kIPv6), policy),
            testing::guarded_lines(before, policy));
}

}  // namespace
}  // namespace ng::netfilter
