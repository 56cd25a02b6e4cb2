#include "netfilter/snapshot_pruning.h"

#include <gtest/gtest.h>

#include "netfilter/cni/portmap_rules.h"
#include "netfilter/save_codec.h"
#include "netfilter/snapshot_store.h"
#include "netfilter/snapshot_trust.h"
#include "tests/unit/netfilter/guard_fixture.h"

namespace ng::netfilter {
namespace {

using namespace std::chrono_literals;

constexpr char kNet[] = "k8s-pod-network";
constexpr char kLive[] = "abc123def456";  // the pod of cni-nft-ipv4.save
constexpr char kDead[] = "0dead0beef";

// cni-nft-ipv4.save's nat table plus a second pod (kDead, 10.244.1.3, hostPort 8081) as bridge
// (ipMasq) and portmap write it: 7 rules of its own.
Table two_pods() {
  auto save = parse_save(testing::netfilter_data("cni-nft-ipv4.save"));
  EXPECT_TRUE(save.ok());
  Table nat = *save->find("nat");
  const std::string dn = cni::dnat_chain_name(kNet, kDead);
  const std::string br = cni_bridge_chain_name(kNet, kDead);
  const std::string c =
      "-m comment --comment \"name: \\\"k8s-pod-network\\\" id: \\\"0dead0beef\\\"\"";
  std::string extra =
      "*nat\n:POSTROUTING ACCEPT [0:0]\n:CNI-HOSTPORT-DNAT - [0:0]\n"
      ":CNI-HOSTPORT-SETMARK - [0:0]\n:" +
      dn + " - [0:0]\n:" + br + " - [0:0]\n";
  extra += "-A POSTROUTING -s 10.244.1.3/32 " + c + " -j " + br + "\n";
  extra +=
      "-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment \"dnat name: \\\"k8s-pod-network\\\" "
      "id: \\\"0dead0beef\\\"\" -m multiport --dports 8081 -j " +
      dn + "\n";
  extra += "-A " + dn + " -s 10.244.1.0/24 -p tcp -m tcp --dport 8081 -j CNI-HOSTPORT-SETMARK\n";
  extra += "-A " + dn + " -s 127.0.0.1/32 -p tcp -m tcp --dport 8081 -j CNI-HOSTPORT-SETMARK\n";
  extra += "-A " + dn + " -p tcp -m tcp --dport 8081 -j DNAT --to-destination 10.244.1.3:80\n";
  extra += "-A " + br + " -d 10.244.1.0/24 " + c + " -j ACCEPT\n";
  extra += "-A " + br + " ! -d 224.0.0.0/4 " + c + " -j MASQUERADE\nCOMMIT\n";
  auto more = parse_table(extra, "nat");
  EXPECT_TRUE(more.ok()) << more.error().message;
  for (auto& ch : more->chains) {
    if (Chain* have = nat.find(ch.name)) {
      have->rules.insert(have->rules.end(), ch.rules.begin(), ch.rules.end());
    } else {
      nat.chains.push_back(ch);
    }
  }
  return testing::default_guard_policy().project(nat);
}

Table flushed() {
  Table t;
  t.name = "nat";
  for (const auto& b : builtin_chains("nat")) t.chains.push_back(Chain{b, "ACCEPT", "", {}});
  return t;
}

size_t rules_with(const Table& t, const std::string& needle) {
  size_t n = 0;
  for (const auto& c : t.chains) {
    for (const auto& r : c.rules) n += (c.name + " " + r.spec).find(needle) != std::string::npos;
  }
  return n;
}

PodVouchers live_only() {
  PodVouchers v;
  v.cache_readable = true;
  v.vouched = {kLive};
  return v;
}

TEST(CniPodOf, ReadsBridgeAndPortmapComments) {
  auto b = cni_pod_of("name: \"k8s-pod-network\" id: \"abc\"");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->network, "k8s-pod-network");
  EXPECT_EQ(b->container_id, "abc");
  auto p = cni_pod_of("dnat name: \"net\" id: \"x-1.2\"");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->network, "net");
  EXPECT_EQ(p->container_id, "x-1.2");
  EXPECT_FALSE(cni_pod_of("CNI portfwd masquerade mark"));
  EXPECT_FALSE(cni_pod_of("kube-system/kube-dns:dns"));
  EXPECT_FALSE(cni_pod_of("dnat name: \"net\" id: \"cut at 255..."));  // portmap trimmed it
  EXPECT_FALSE(cni_pod_of("name: \"net\" id: \"\""));
  EXPECT_FALSE(cni_pod_of("name: \"net\" id: \"a\" and more"));
}

TEST(CniPodOf, ChainNamesAreThePluginsOnes) {
  // From a real bridge + portmap ADD (tests/unit/netfilter/data/cni-nft-ipv4.save).
  EXPECT_EQ(cni_bridge_chain_name(kNet, kLive), "CNI-d3965bcbc3dd2fee4b4941a6");
  EXPECT_EQ(cni::dnat_chain_name(kNet, kLive), "CNI-DN-d3965bcbc3dd2fee4b494");
}

TEST(PruneSnapshot, DropsTheDeadPodsChainsJumpsAndMasqueradeKeepsTheLiveOne) {
  const Table snap = two_pods();
  const PodVouchers v = live_only();
  auto p = prune_snapshot(snap, flushed(), &v, false);
  ASSERT_TRUE(p.table);
  EXPECT_EQ(p.rules_dropped, 7u);
  EXPECT_EQ(rules_with(*p.table, kDead), 0u);
  EXPECT_FALSE(p.table->has(cni::dnat_chain_name(kNet, kDead)));
  EXPECT_FALSE(p.table->has(cni_bridge_chain_name(kNet, kDead)));
  EXPECT_EQ(rules_with(*p.table, kLive), 4u);  // two jumps, two masquerade rules
  EXPECT_EQ(p.table->find(cni::dnat_chain_name(kNet, kLive))->rules.size(), 3u);
  EXPECT_EQ(p.table->find("CNI-HOSTPORT-SETMARK")->rules.size(), 1u);  // shared: kept
  EXPECT_EQ(p.table->find("CNI-HOSTPORT-MASQ")->rules.size(), 1u);
  EXPECT_EQ(p.table->rule_count() + 7, snap.rule_count());
  ASSERT_EQ(p.dropped.size(), 2u);
  for (const auto& e : p.dropped) {
    EXPECT_TRUE(e.whole_chain);
    EXPECT_EQ(e.container_id, kDead);
    EXPECT_EQ(e.network, kNet);
    EXPECT_EQ(e.reason, PruneReason::kNoCacheEntry);
    EXPECT_EQ(e.rules, e.chain.rfind("CNI-DN-", 0) == 0 ? 4u : 3u);  // own rules + the jump
  }
}

TEST(PruneSnapshot, WhatTheTableStillHoldsIsNeverDropped) {
  const Table snap = two_pods();
  const PodVouchers v = live_only();
  // No flush: the table is the snapshot (a pod whose cache entry is not written yet).
  EXPECT_FALSE(prune_snapshot(snap, snap, &v, true).table);
  // Its bridge chain survived (a failed DEL); the DNAT chain did not.
  Table cur = flushed();
  cur.chains.push_back(*snap.find(cni_bridge_chain_name(kNet, kDead)));
  cur.find("POSTROUTING")->rules = snap.find("POSTROUTING")->rules;
  auto p = prune_snapshot(snap, cur, &v, false);
  ASSERT_TRUE(p.table);
  EXPECT_TRUE(p.table->has(cni_bridge_chain_name(kNet, kDead)));
  EXPECT_FALSE(p.table->has(cni::dnat_chain_name(kNet, kDead)));
  EXPECT_EQ(p.rules_dropped, 4u);
}

TEST(PruneSnapshot, TheTrustRule) {
  const Table snap = two_pods();
  auto dropped_ids = [&](const PodVouchers* v, bool old) {
    std::set<std::string> ids;
    auto p = prune_snapshot(snap, flushed(), v, old);
    for (const auto& e : p.dropped)
      ids.insert(e.container_id + ":" + std::string(to_string(e.reason)));
    return ids;
  };
  using Ids = std::set<std::string>;
  // Nobody to ask: a fresh snapshot is trusted whole, an old one restores no pod.
  EXPECT_EQ(dropped_ids(nullptr, false), Ids{});
  EXPECT_EQ(dropped_ids(nullptr, true),
            (Ids{std::string(kLive) + ":unvouched_old", std::string(kDead) + ":unvouched_old"}));
  PodVouchers unreadable;
  EXPECT_EQ(dropped_ids(&unreadable, false), Ids{});
  EXPECT_EQ(dropped_ids(&unreadable, true).size(), 2u);
  // Readable: a vouched pod is kept at any age; a pod without an entry never is.
  PodVouchers v = live_only();
  EXPECT_EQ(dropped_ids(&v, true), Ids{std::string(kDead) + ":no_cache_entry"});
  v.stale = {kDead};
  EXPECT_EQ(dropped_ids(&v, false), Ids{std::string(kDead) + ":sandbox_gone"});
  // A sandbox that cannot be checked: kept while fresh, dropped when old.
  v.stale.clear();
  v.unverified = {kDead};
  EXPECT_EQ(dropped_ids(&v, false), Ids{});
  EXPECT_EQ(dropped_ids(&v, true), Ids{std::string(kDead) + ":unverified_old"});
  // A cache file that could not be parsed may be the pod's: not judged.
  v.unverified.clear();
  v.unparsed_files = {std::string(kNet) + "-" + kDead + "-eth0"};
  EXPECT_EQ(dropped_ids(&v, true), Ids{});
}

TEST(PruneSnapshot, LooseRulesOfADeadPodInASharedChainGoAlone) {
  Table snap = two_pods();
  // A rule carrying the dead pod's id that jumps to no pod chain of its own.
  Rule r;
  r.spec =
      "-s 10.244.1.3/32 -m comment --comment \"name: \\\"k8s-pod-network\\\" id: "
      "\\\"0dead0beef\\\"\" -j RETURN";
  ASSERT_TRUE(parse_rule_fields(r).ok());
  snap.find("CNI-HOSTPORT-MASQ")->rules.insert(snap.find("CNI-HOSTPORT-MASQ")->rules.begin(), r);
  const PodVouchers v = live_only();
  auto p = prune_snapshot(snap, flushed(), &v, false);
  ASSERT_TRUE(p.table);
  EXPECT_EQ(p.rules_dropped, 8u);
  EXPECT_EQ(p.table->find("CNI-HOSTPORT-MASQ")->rules.size(), 1u);
  bool loose = false;
  for (const auto& e : p.dropped)
    loose = loose || (!e.whole_chain && e.chain == "CNI-HOSTPORT-MASQ");
  EXPECT_TRUE(loose);
}

TEST(AssessTrusted, PrunesOnlyWhenThereIsDriftToRepair) {
  const auto policy = testing::default_guard_policy();
  auto snap = std::make_shared<const Table>(two_pods());
  const auto original = snap;
  const TrustInput trust{std::make_shared<PodVouchers>(live_only()), false};
  std::vector<PrunedEntry> dropped;
  // The dead pod removed by its owner (chains and jumps gone): accepted, nothing pruned.
  Table after_del = *snap;
  auto live_only_table = prune_snapshot(*snap, flushed(), trust.vouchers.get(), false);
  after_del = *live_only_table.table;
  AssessOptions o;
  auto a = assess_trusted(after_del, snap, {}, policy, o, trust, dropped);
  EXPECT_FALSE(a.has_drift());
  EXPECT_TRUE(dropped.empty());
  EXPECT_EQ(snap, original);
  // A flush: the dead pod is dropped before the plan, the live pod comes back.
  a = assess_trusted(flushed(), snap, {}, policy, o, trust, dropped);
  EXPECT_TRUE(a.has_drift());
  EXPECT_NE(snap, original);
  EXPECT_EQ(dropped.size(), 2u);
  EXPECT_EQ(rules_with(a.expected, kDead), 0u);
  EXPECT_EQ(rules_with(a.expected, kLive), 4u);
}

TEST(SnapshotAge, TakenAtRoundTripsAndOldFilesHaveNone) {
  SnapshotHeader h;
  h.table = "nat";
  h.identity = "boot/1";
  h.taken_at = core::WallTime(std::chrono::seconds(1'800'000'123));
  Table t;
  t.name = "nat";
  const std::string text = encode_snapshot(h, t);
  EXPECT_NE(text.find(" taken=1800000123"), std::string::npos);
  auto back = decode_snapshot(text);
  ASSERT_TRUE(back.ok());
  ASSERT_TRUE(back->header.taken_at);
  EXPECT_EQ(*back->header.taken_at, *h.taken_at);
  // Written before the field existed: age unknown.
  auto v1 = decode_snapshot(
      "# nodeguard-snapshot v1 backend=nft family=ipv4 table=nat "
      "identity=b/1 canary=1\n*nat\nCOMMIT\n");
  ASSERT_TRUE(v1.ok());
  EXPECT_FALSE(v1->header.taken_at);
  EXPECT_FALSE(decode_snapshot("# nodeguard-snapshot v1 backend=nft family=ipv4 table=nat "
                               "taken=yesterday\n*nat\nCOMMIT\n")
                   .ok());
}

TEST(SnapshotAge, OldMeansOlderThanMaxAgeOrUnknown) {
  prometheus::Registry reg;
  SnapshotTrust trust(15min, 5s, reg);
  const core::WallTime now(std::chrono::seconds(1'800'000'000));
  EXPECT_TRUE(trust.old(std::nullopt, now));
  EXPECT_FALSE(trust.old(now - 14min, now));
  EXPECT_TRUE(trust.old(now - 16min, now));
  EXPECT_FALSE(trust.must_wait());
  trust.expect();
  EXPECT_TRUE(trust.must_wait());
  EXPECT_TRUE(trust.set(std::make_shared<PodVouchers>()));
  EXPECT_FALSE(trust.set(nullptr));
  EXPECT_FALSE(trust.must_wait());
}

}  // namespace
}  // namespace ng::netfilter
