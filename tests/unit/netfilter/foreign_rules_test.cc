// assess() and foreign rules: kept as anchors, listed, never restored; and forget_entry.
#include <gmock/gmock.h>

#include "netfilter/forget_entry.h"
#include "tests/unit/netfilter/guard_fixture.h"

namespace ng::netfilter {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kForeignDnat[] =
    "-A CNI-HOSTPORT-DNAT -p tcp -m tcp --dport 9999 -j DNAT --to-destination 10.0.0.9:80";
constexpr char kForeignSpec[] = "-p tcp -m tcp --dport 9999 -j DNAT --to-destination 10.0.0.9:80";

class ForeignRules : public testing::GuardFixture {
 protected:
  void SetUp() override {
    load("cni-nft-ipv4.save");
    owned = testing::guarded_lines(read("nat"), policy);
    restore(std::string("*nat\n") + kForeignDnat + "\nCOMMIT\n");
    snap = take_snapshot("nat");  // learned with the foreign rule in it
  }
  std::vector<std::string> lines() { return testing::guarded_lines(read("nat"), policy); }
  std::vector<std::string> owned;
  Table snap;
};

TEST_F(ForeignRules, AreListedAndKeptInTheSnapshotAsAnchors) {
  auto a = check("nat", snap);
  EXPECT_FALSE(a.has_drift());
  ASSERT_EQ(a.foreign_total, 1u);
  EXPECT_EQ(a.foreign[0].chain, "CNI-HOSTPORT-DNAT");
  EXPECT_EQ(a.foreign[0].rule, kForeignSpec);
  EXPECT_EQ(a.foreign[0].owner, "portmap");
  EXPECT_TRUE(snap.find("CNI-HOSTPORT-DNAT")->rules.size() == 2u);
}

TEST_F(ForeignRules, DeletedByTheOperatorStaysDeleted) {
  restore(std::string("*nat\n-D") + (kForeignDnat + 2) + "\nCOMMIT\n");
  auto a = check("nat", snap);
  EXPECT_FALSE(a.has_drift()) << a.signature;  // CNI-HOSTPORT-DNAT is write-once, yet not owed
  EXPECT_THAT(a.accepted, Contains(HasSubstr("foreign rule(s) removed from CNI-HOSTPORT-DNAT")));
  EXPECT_EQ(a.foreign_total, 0u);
  EXPECT_EQ(a.expected.find("CNI-HOSTPORT-DNAT")->rules.size(), 1u);  // the next snapshot
}

TEST_F(ForeignRules, AreNotRestoredAfterAFlushButTheOwnersRulesAre) {
  fake.flush_table(kV4, "nat");
  auto a = check("nat", snap);
  ASSERT_TRUE(a.flush);
  repair(a, "nat");
  EXPECT_EQ(lines(), owned);
  EXPECT_THAT(lines(), Not(Contains(std::string(kForeignDnat))));
  // Rules only (chains stay): the same.
  snap = check("nat", snap).expected;
  restore(std::string("*nat\n") + kForeignDnat + "\nCOMMIT\n");
  snap = check("nat", snap).expected;
  fake.flush_table(kV4, "nat", /*delete_chains=*/false);
  a = check("nat", snap);
  ASSERT_TRUE(a.flush);
  repair(a, "nat");
  EXPECT_THAT(lines(), Not(Contains(std::string(kForeignDnat))));
  EXPECT_EQ(lines(), owned);
}

TEST_F(ForeignRules, ForeignJumpFromABuiltinChainIsNotRestored) {
  restore("*nat\n-A PREROUTING -p tcp -m tcp --dport 80 -j KUBE-SERVICES\nCOMMIT\n");
  snap = check("nat", snap).expected;
  auto a = check("nat", snap);
  ASSERT_EQ(a.foreign_total, 2u);
  restore("*nat\n-D PREROUTING -p tcp -m tcp --dport 80 -j KUBE-SERVICES\nCOMMIT\n");
  a = check("nat", snap);
  EXPECT_FALSE(a.has_drift()) << a.signature;
  EXPECT_EQ(a.foreign_total, 1u);
}

TEST_F(ForeignRules, OwnerRulesNextToThemAreStillRepairedInPlace) {
  // The pod's entry rule deleted: it comes back; the foreign one stays where it was.
  const auto* dnat = snap.find("CNI-HOSTPORT-DNAT");
  ASSERT_NE(dnat, nullptr);
  restore("*nat\n-D CNI-HOSTPORT-DNAT 1\nCOMMIT\n");
  auto a = check("nat", snap);
  ASSERT_TRUE(a.has_drift());
  EXPECT_EQ(a.drift[0].kind, DriftKind::kRuleMissing);
  repair(a, "nat");
  EXPECT_EQ(read("nat").find("CNI-HOSTPORT-DNAT")->rules, dnat->rules);
}

TEST_F(ForeignRules, RulesOfAContainerTheCacheDoesNotVouchForAreNotOwed) {
  AssessOptions o;
  o.canary_expected = true;
  o.unvouched = std::make_shared<std::set<std::string>>(std::set<std::string>{"abc123def456"});
  restore("*nat\n-D CNI-HOSTPORT-DNAT 1\nCOMMIT\n");
  auto a = assess(read("nat"), snap, {}, policy, o);
  EXPECT_FALSE(a.has_drift()) << a.signature;
  // With the cache vouching (or no oracle), the same deletion is drift.
  o.unvouched.reset();
  EXPECT_TRUE(assess(read("nat"), snap, {}, policy, o).has_drift());
}

TEST_F(ForeignRules, AssessOptionsCompareVouchedSetsByContent) {
  AssessOptions a, b;
  a.unvouched = std::make_shared<std::set<std::string>>(std::set<std::string>{"x"});
  b.unvouched = std::make_shared<std::set<std::string>>(std::set<std::string>{"x"});
  EXPECT_EQ(a, b);
  b.unvouched.reset();
  EXPECT_FALSE(a == b);
}

TEST(ForgetEntry, ChainGoesWithEveryJumpIntoIt) {
  testing::FakeNetfilterBackend fake;
  fake.load(Family::kIPv4, testing::netfilter_data("cni-nft-ipv4.save"));
  Table t = *fake.read(Family::kIPv4, "nat");
  auto removed = forget_in(t, {"CNI-DN-d3965bcbc3dd2fee4b494", ""});
  ASSERT_EQ(removed.size(), 2u);
  EXPECT_EQ(removed[0], ":CNI-DN-d3965bcbc3dd2fee4b494");
  EXPECT_THAT(removed[1], HasSubstr("-A CNI-HOSTPORT-DNAT "));
  EXPECT_FALSE(t.has("CNI-DN-d3965bcbc3dd2fee4b494"));
  EXPECT_TRUE(t.find("CNI-HOSTPORT-DNAT")->rules.empty());
  EXPECT_FALSE(entry_present(t, {"CNI-DN-d3965bcbc3dd2fee4b494", ""}));
  EXPECT_TRUE(forget_in(t, {"CNI-DN-d3965bcbc3dd2fee4b494", ""}).empty());  // nothing left
  EXPECT_TRUE(forget_in(t, {"PREROUTING", ""}).empty());                    // built-in chains stay
}

TEST(ForgetEntry, OneRuleByItsExactText) {
  testing::FakeNetfilterBackend fake;
  fake.load(Family::kIPv4, testing::netfilter_data("cni-nft-ipv4.save"));
  Table t = *fake.read(Family::kIPv4, "nat");
  const ForgetEntry e{"KUBE-POSTROUTING", rule_spec_argument("KUBE-POSTROUTING",
                                                             " -A KUBE-POSTROUTING -j MARK "
                                                             "--set-xmark 0x4000/0x0 ")};
  EXPECT_EQ(e.rule, "-j MARK --set-xmark 0x4000/0x0");
  EXPECT_TRUE(entry_present(t, e));
  auto removed = forget_in(t, e);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0], "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0");
  EXPECT_EQ(t.find("KUBE-POSTROUTING")->rules.size(), 2u);
  EXPECT_FALSE(entry_present(t, e));
  EXPECT_TRUE(forget_in(t, {"KUBE-POSTROUTING", "-j NOPE"}).empty());
  EXPECT_EQ(rule_spec_argument("X", "-j ACCEPT"), "-j ACCEPT");
  EXPECT_EQ(rule_spec_argument("X", "-A X"), "");
}

}  // namespace
}  // namespace ng::netfilter
