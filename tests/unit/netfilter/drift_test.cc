#include "netfilter/drift.h"

#include <gmock/gmock.h>

#include "tests/unit/netfilter/guard_fixture.h"

namespace ng::netfilter {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

class Drift : public testing::GuardFixture {
 protected:
  void SetUp() override {
    load("cni-nft-ipv4.save");
    before = read("nat");
    snap = take_snapshot("nat");
  }
  std::vector<DriftKind> kinds(const Assessment& a) {
    std::vector<DriftKind> k;
    for (const auto& f : a.drift) k.push_back(f.kind);
    return k;
  }
  Table before;
  Table snap;
};

TEST_F(Drift, FirstLookTakesTheSnapshotAndAddsTheCanary) {
  EXPECT_TRUE(snap.has(GuardPolicy::kCanary));
  EXPECT_TRUE(read("nat").has(GuardPolicy::kCanary));
  EXPECT_FALSE(snap.has("MY-OWN"));  // unowned chain not in the snapshot
  EXPECT_TRUE(snap.has("KUBE-PROXY-CANARY") == false);
  EXPECT_EQ(policy.guarded_chain_count(snap), 10u);
  auto a = check("nat", snap);
  EXPECT_FALSE(a.has_drift()) << a.signature << a.flush;
  EXPECT_TRUE(a.accepted.empty());
}

TEST_F(Drift, FullFlushIsDetectedByTheCanaryAndEverythingComesBack) {
  fake.flush_table(kV4, "nat");  // -F and -X: every user chain gone, the canary too
  auto a = check("nat", snap);
  ASSERT_TRUE(a.flush);
  EXPECT_EQ(a.drift.front().kind, DriftKind::kFlush);
  EXPECT_THAT(a.drift.front().detail, HasSubstr("canary"));
  repair(a, "nat");
  auto after = read("nat");
  EXPECT_EQ(testing::guarded_lines(after, policy), testing::guarded_lines(before, policy));
  EXPECT_TRUE(after.has(GuardPolicy::kCanary));
  EXPECT_FALSE(after.has("KUBE-PROXY-CANARY"));  // kube-proxy must see the flush
  EXPECT_FALSE(after.has("MY-OWN"));             // not ours: not restored
}

TEST_F(Drift, FlushWithoutDeleteIsDetectedByShape) {
  fake.flush_table(kV4, "nat", /*delete_chains=*/false);  // iptables -t nat -F only
  auto a = check("nat", snap);
  ASSERT_TRUE(a.flush);
  EXPECT_THAT(a.drift.front().detail, HasSubstr("guarded chains gone or emptied"));
  repair(a, "nat");
  EXPECT_EQ(testing::guarded_lines(read("nat"), policy), testing::guarded_lines(before, policy));
  EXPECT_TRUE(read("nat").find("MY-OWN")->rules.empty());  // left as the flush left it
}

TEST_F(Drift, FlushedTableWithFirewalldRulesKeepsThemAndPutsJumpsInOrder) {
  fake.flush_table(kV4, "nat");
  restore(
      "*nat\n:FW-PRE - [0:0]\n-A PREROUTING -j FW-PRE\n-A POSTROUTING -o lo -j RETURN\nCOMMIT\n");
  auto a = check("nat", snap);
  ASSERT_TRUE(a.flush);
  repair(a, "nat");
  auto after = read("nat");
  EXPECT_EQ(testing::guarded_lines(after, policy), testing::guarded_lines(before, policy));
  const auto& pre = after.find("PREROUTING")->rules;
  ASSERT_EQ(pre.size(), 3u);
  EXPECT_EQ(pre[0].target, "KUBE-SERVICES");  // it was first: back at the top
  EXPECT_EQ(pre[1].target, "CNI-HOSTPORT-DNAT");
  EXPECT_EQ(pre[2].target, "FW-PRE");  // the newcomer is untouched
}

TEST_F(Drift, PodDeletedIsALegitimateChange) {
  restore(
      "*nat\n-D POSTROUTING -s 10.244.1.2/32 -m comment --comment \"name: \\\"k8s-pod-network\\\" "
      "id: \\\"abc123def456\\\"\" -j CNI-d3965bcbc3dd2fee4b4941a6\n"
      "-D CNI-HOSTPORT-DNAT 1\n-F CNI-DN-d3965bcbc3dd2fee4b494\n-X CNI-DN-d3965bcbc3dd2fee4b494\n"
      "-F CNI-d3965bcbc3dd2fee4b4941a6\n-X CNI-d3965bcbc3dd2fee4b4941a6\nCOMMIT\n");
  auto a = check("nat", snap);
  EXPECT_FALSE(a.flush);
  EXPECT_FALSE(a.has_drift()) << a.signature;
  EXPECT_FALSE(a.accepted.empty());
  EXPECT_FALSE(a.expected.has("CNI-DN-d3965bcbc3dd2fee4b494"));
  // The next snapshot no longer holds the pod: deleting it later is not drift either.
  auto a2 = check("nat", a.expected);
  EXPECT_FALSE(a2.has_drift());
}

TEST_F(Drift, DeletedEntryJumpIsRestoredAtItsPosition) {
  restore("*nat\n-D PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT\nCOMMIT\n");
  auto a = check("nat", snap);
  EXPECT_FALSE(a.flush);
  EXPECT_THAT(kinds(a), Contains(DriftKind::kRuleMissing));
  EXPECT_EQ(a.drift[0].chain, "PREROUTING");
  const auto unowned_before = testing::unowned_lines(read("nat"), policy);
  const std::string text = repair(a, "nat");
  EXPECT_THAT(text, HasSubstr("-I PREROUTING 2 -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT"));
  EXPECT_EQ(testing::guarded_lines(read("nat"), policy), testing::guarded_lines(before, policy));
  EXPECT_EQ(testing::unowned_lines(read("nat"), policy), unowned_before);
}

TEST_F(Drift, RuleMissingFromAWriteOnceChainIsDrift) {
  restore("*nat\n-D CNI-DN-d3965bcbc3dd2fee4b494 3\nCOMMIT\n");  // the DNAT rule
  auto a = check("nat", snap);
  ASSERT_EQ(a.drift.size(), 1u);
  EXPECT_EQ(a.drift[0].kind, DriftKind::kRuleMissing);
  EXPECT_THAT(a.drift[0].rule, HasSubstr("--to-destination 10.244.1.2:80"));
  repair(a, "nat");
  EXPECT_EQ(testing::guarded_lines(read("nat"), policy), testing::guarded_lines(before, policy));
}

TEST_F(Drift, OwnerRewriteOfAKubeChainIsAccepted) {
  restore("*nat\n-D KUBE-POSTROUTING 2\nCOMMIT\n");
  auto a = check("nat", snap);
  EXPECT_FALSE(a.has_drift());
  EXPECT_EQ(a.expected.find("KUBE-POSTROUTING")->rules.size(), 2u);
}

TEST_F(Drift, UnreferencedWriteOnceChainGetsItsJumpBack) {
  restore("*nat\n-D CNI-HOSTPORT-DNAT 1\nCOMMIT\n");  // CNI-DN-* left orphaned
  auto a = check("nat", snap);
  ASSERT_TRUE(a.has_drift());
  EXPECT_EQ(a.drift[0].chain, "CNI-HOSTPORT-DNAT");
  repair(a, "nat");
  EXPECT_EQ(testing::guarded_lines(read("nat"), policy), testing::guarded_lines(before, policy));
}

TEST_F(Drift, WholeHostportChainDeletedComesBackWithItsJumps) {
  restore(
      "*nat\n-D PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT\n"
      "-D OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT\n-F CNI-HOSTPORT-DNAT\n"
      "-X CNI-HOSTPORT-DNAT\nCOMMIT\n");
  auto a = check("nat", snap);
  ASSERT_TRUE(a.has_drift());
  EXPECT_THAT(kinds(a), Contains(DriftKind::kChainMissing));
  repair(a, "nat");
  EXPECT_EQ(testing::guarded_lines(read("nat"), policy), testing::guarded_lines(before, policy));
}

TEST_F(Drift, ReorderedJumpIsMovedBack) {
  restore(
      "*nat\n-D PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT\n"
      "-I PREROUTING 1 -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT\nCOMMIT\n");
  auto a = check("nat", snap);
  ASSERT_TRUE(a.has_drift());
  EXPECT_THAT(kinds(a), Contains(DriftKind::kRuleReordered));
  repair(a, "nat");
  EXPECT_EQ(testing::guarded_lines(read("nat"), policy), testing::guarded_lines(before, policy));
}

TEST_F(Drift, ExtraUnownedRulesAreLeftAlone) {
  restore("*nat\n:OTHER - [0:0]\n-I PREROUTING 1 -j OTHER\n-A POSTROUTING -j RETURN\nCOMMIT\n");
  auto a = check("nat", snap);
  EXPECT_FALSE(a.has_drift());
  fake.flush_table(kV4, "nat", false);
  restore("*nat\n-A PREROUTING -j OTHER\nCOMMIT\n");
  auto b = check("nat", snap);
  ASSERT_TRUE(b.flush);
  repair(b, "nat");
  auto after = read("nat");
  EXPECT_EQ(after.find("PREROUTING")->rules.back().target, "OTHER");
  EXPECT_EQ(testing::guarded_lines(after, policy), testing::guarded_lines(before, policy));
}

TEST_F(Drift, PolicyDropIsReportedAndRestoredOnlyWhenAsked) {
  Table fsnap = take_snapshot("filter");
  restore("*filter\n:FORWARD DROP [0:0]\nCOMMIT\n");
  auto a = check("filter", fsnap, /*restore_policies=*/false);
  EXPECT_FALSE(a.has_drift());
  ASSERT_EQ(a.reports.size(), 1u);
  EXPECT_EQ(a.reports[0].kind, DriftKind::kPolicyChanged);
  EXPECT_EQ(a.reports[0].chain, "FORWARD");
  auto plan = plan_repair(a.expected, read("filter"), policy, false);
  EXPECT_TRUE(plan.policies.empty());
  auto b = check("filter", a.expected, /*restore_policies=*/true);
  ASSERT_TRUE(b.has_drift());
  EXPECT_EQ(b.drift[0].kind, DriftKind::kPolicyChanged);
  repair(b, "filter", true);
  EXPECT_EQ(read("filter").find("FORWARD")->policy, "ACCEPT");
}

TEST_F(Drift, ContributedChainsAreRepairedWhenMissing) {
  Chain dn;
  dn.name = "CNI-DN-feedfeedfeedfeedfeedfeed";
  Rule r;
  r.spec = "-p tcp -m tcp --dport 9090 -j DNAT --to-destination 10.244.1.9:80";
  ASSERT_TRUE(parse_rule_fields(r).ok());
  dn.rules.push_back(r);
  Chain hp;
  hp.name = "CNI-HOSTPORT-DNAT";
  Rule j;
  j.spec = "-p tcp -m multiport --dports 9090 -j CNI-DN-feedfeedfeedfeedfeedfeed";
  ASSERT_TRUE(parse_rule_fields(j).ok());
  hp.rules.push_back(j);
  auto a = check("nat", snap, false, {{dn}, {hp}});
  ASSERT_TRUE(a.has_drift());
  EXPECT_THAT(kinds(a), Contains(DriftKind::kChainMissing));
  repair(a, "nat");
  auto after = read("nat");
  ASSERT_TRUE(after.has(dn.name));
  EXPECT_EQ(after.find("CNI-HOSTPORT-DNAT")->rules.size(), 2u);
  auto again = check("nat", a.expected, false, {{dn}, {hp}});
  EXPECT_FALSE(again.has_drift());
}

TEST_F(Drift, SameDriftGivesTheSameSignature) {
  restore("*nat\n-D CNI-DN-d3965bcbc3dd2fee4b494 3\nCOMMIT\n");
  auto a = check("nat", snap);
  repair(a, "nat");
  restore("*nat\n-D CNI-DN-d3965bcbc3dd2fee4b494 3\nCOMMIT\n");
  auto b = check("nat", snap);
  EXPECT_FALSE(a.signature.empty());
  EXPECT_EQ(a.signature, b.signature);
}

TEST_F(Drift, NatOnlyFlushLeavesFilterAlone) {
  Table fsnap = take_snapshot("filter");
  const auto filter_before = fake.save(kV4, "filter");
  fake.flush_table(kV4, "nat");
  EXPECT_FALSE(check("filter", fsnap).has_drift());
  EXPECT_TRUE(check("nat", snap).flush);
  EXPECT_EQ(fake.save(kV4, "filter"), filter_before);
}

TEST(MergeRules, AnchorsAndMoves) {
  auto rule = [](std::string spec, std::string target) {
    Rule r;
    r.spec = std::move(spec);
    r.target = std::move(target);
    return r;
  };
  auto ours = [](const Rule& r) { return r.target.rfind("G", 0) == 0; };
  std::vector<Rule> ref = {rule("a", "G1"), rule("u", "U"), rule("b", "G2")};
  // Empty chain: g1 to the top (only ours before it), g2 after it.
  auto out = merge_rules({}, ref, {true, false, true}, ours);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].spec, "a");
  EXPECT_EQ(out[1].spec, "b");
  // Anchored after the unowned rule that precedes it.
  out = merge_rules({rule("x", "X"), rule("u", "U")}, ref, {true, false, true}, ours);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].spec, "x");
  EXPECT_EQ(out[1].spec, "a");  // right before the first later anchor (u)
  EXPECT_EQ(out[2].spec, "u");
  EXPECT_EQ(out[3].spec, "b");
  std::vector<std::string> moved;
  out = merge_rules({rule("b", "G2"), rule("a", "G1")}, ref, {true, false, true}, ours, &moved);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].spec, "a");
  EXPECT_EQ(out[1].spec, "b");
  EXPECT_EQ(moved.size(), 1u);
}

}  // namespace
}  // namespace ng::netfilter
