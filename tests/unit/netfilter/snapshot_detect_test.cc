#include <gmock/gmock.h>

#include "netfilter/backend_detect.h"
#include "netfilter/guard_policy.h"
#include "netfilter/snapshot_store.h"
#include "tests/unit/netfilter/guard_fixture.h"

namespace ng::netfilter {
namespace {

TEST(SnapshotStore, RoundTripWithBlobsAndHeader) {
  auto t = parse_table(testing::netfilter_data("cni-legacy-ipv6.save"), "nat");
  ASSERT_TRUE(t.ok());
  t->find("CNI-HOSTPORT-DNAT")->rules[0].blob = std::string("\x00\x01\x02", 3);
  SnapshotHeader h{BackendKind::kLegacy, Family::kIPv6, "nat", "boot/123", true};
  auto back = decode_snapshot(encode_snapshot(h, *t));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->header.backend, BackendKind::kLegacy);
  EXPECT_EQ(back->header.family, Family::kIPv6);
  EXPECT_EQ(back->header.identity, "boot/123");
  EXPECT_TRUE(back->header.canary);
  EXPECT_EQ(back->table.find("CNI-HOSTPORT-DNAT")->rules[0].blob, std::string("\x00\x01\x02", 3));
  EXPECT_EQ(back->table.rule_count(), t->rule_count());
  EXPECT_EQ(snapshot_file_name(BackendKind::kNft, Family::kIPv4, "nat"), "nft-ipv4-nat.rules");
}

TEST(SnapshotStore, BadFilesAreRejected) {
  EXPECT_FALSE(decode_snapshot("").ok());
  EXPECT_FALSE(decode_snapshot("*nat\nCOMMIT\n").ok());
  EXPECT_FALSE(decode_snapshot("# nodeguard-snapshot v1 backend=zzz family=ipv4 table=nat\n").ok());
  EXPECT_FALSE(
      decode_snapshot("# nodeguard-snapshot v1 backend=nft family=ipv4 table=nat\n*nat\n").ok());
}

TEST(SnapshotStore, HostIdentityNamesBootAndNamespace) {
  const auto id = host_identity();
  EXPECT_NE(id.find('/'), std::string::npos);
  EXPECT_GT(id.size(), 2u);
}

TEST(BackendDetect, ExplicitModeWins) {
  auto c = choose_backends("legacy", {});
  ASSERT_EQ(c.watch.size(), 1u);
  EXPECT_EQ(c.watch[0], BackendKind::kLegacy);
}

TEST(BackendDetect, HintOrderThenRuleCounts) {
  BackendProbe nft{BackendKind::kNft, true, false, 10, 0};
  BackendProbe legacy{BackendKind::kLegacy, true, false, 50, 0};
  EXPECT_EQ(choose_backends("auto", {nft, legacy}).watch,
            std::vector<BackendKind>{BackendKind::kLegacy});
  nft.hint = true;
  EXPECT_EQ(choose_backends("auto", {nft, legacy}).watch,
            std::vector<BackendKind>{BackendKind::kNft});
  nft.hint = false;
  legacy.rules = 10;
  EXPECT_EQ(choose_backends("auto", {nft, legacy}).watch,
            std::vector<BackendKind>{BackendKind::kNft});  // tie: nft
  legacy.hint = true;
  EXPECT_EQ(choose_backends("auto", {nft, legacy}).watch,
            std::vector<BackendKind>{BackendKind::kLegacy});
}

TEST(BackendDetect, BothWatchedWhenBothHoldGuardedRules) {
  BackendProbe nft{BackendKind::kNft, true, true, 100, 40};
  BackendProbe legacy{BackendKind::kLegacy, true, false, 12, 12};
  auto c = choose_backends("auto", {nft, legacy});
  EXPECT_EQ(c.watch, (std::vector<BackendKind>{BackendKind::kNft, BackendKind::kLegacy}));
  EXPECT_THAT(c.why, ::testing::HasSubstr("legacy also holds 12 guarded rules"));
  legacy.available = false;
  EXPECT_EQ(choose_backends("auto", {nft, legacy}).watch,
            std::vector<BackendKind>{BackendKind::kNft});
}

TEST(BackendDetect, HintChains) {
  Table m;
  m.name = "mangle";
  EXPECT_FALSE(has_backend_hint(m));
  m.chains.push_back(Chain{"KUBE-IPTABLES-HINT", "-", "", {}});
  EXPECT_TRUE(has_backend_hint(m));
}

TEST(GuardPolicyTest, PatternsAndCanaries) {
  auto p = testing::default_guard_policy();
  EXPECT_TRUE(p.is_guarded_chain("nat", "CNI-DN-abc"));
  EXPECT_TRUE(p.is_guarded_chain("nat", "KUBE-SVC-X"));
  EXPECT_TRUE(p.is_guarded_chain("filter", "cali-FORWARD"));
  EXPECT_FALSE(p.is_guarded_chain("nat", "KUBE-PROXY-CANARY"));
  EXPECT_FALSE(p.is_guarded_chain("mangle", "KUBE-KUBELET-CANARY"));
  EXPECT_FALSE(p.is_guarded_chain("nat", "NODEGUARD-CANARY"));
  EXPECT_FALSE(p.is_guarded_chain("nat", "PREROUTING"));
  EXPECT_FALSE(p.is_guarded_chain("raw", "cali-x"));  // table not configured
  EXPECT_FALSE(p.is_guarded_chain("nat", "DOCKER"));
  EXPECT_TRUE(glob_match("a*b*c", "aXXbYc"));
  EXPECT_FALSE(glob_match("a*b", "ab-"));
  EXPECT_TRUE(p.is_write_once("CNI-HOSTPORT-DNAT"));
  EXPECT_FALSE(p.is_write_once("KUBE-SERVICES"));
}

}  // namespace
}  // namespace ng::netfilter
