// The native table guard's pure parts: the wire layer over captured dumps (kube-proxy-,
// Calico-shaped and object tables built with `nft -f` on a real kernel), the restore batch,
// the canonical comparison, the wipe classifier and the config syntax.
#include <gtest/gtest.h>

#include <linux/netfilter/nf_tables.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>
#include <set>

#include "netfilter/native/native_classify.h"
#include "netfilter/native/native_config.h"
#include "netfilter/native/native_snapshot.h"
#include "netfilter/nft/nft_restore_order.h"
#include "netfilter/nft/nft_table_wire.h"
#include "tests/unit/netfilter/native_capture.h"

namespace ng::netfilter::native {
namespace {

using ng::testing::native_capture;
using ng::testing::without;

constexpr int kIp = 2, kInet = 1;

TEST(NativeWire, KubeProxyCaptureCounts) {
  // 3 services x 3 endpoints (tools/bench/gen-kube-proxy-nft.sh 3).
  const auto s = native_capture("kube-proxy", kIp);
  EXPECT_EQ(s.counts.chains, 14u + 3 * 4);
  EXPECT_EQ(s.counts.base_chains, 7u);
  EXPECT_EQ(s.counts.rules, 21u + 3 * 8);
  EXPECT_EQ(s.counts.base_rules, 10u);
  // 7 named sets and maps, one anonymous `numgen ... vmap` per service.
  EXPECT_EQ(s.counts.sets, 7u + 3);
  EXPECT_EQ(s.counts.elements, 3u + 3 + 3 * 3);
  EXPECT_NE(s.genid, 0u);
  ASSERT_FALSE(s.msgs.empty());
  EXPECT_EQ(s.msgs.front().kind, NativeKind::kTable);
  // Restore order: chains before sets, sets before their elements, rules last.
  auto first = [&](NativeKind k) {
    return std::find_if(s.msgs.begin(), s.msgs.end(), [&](auto& m) { return m.kind == k; });
  };
  EXPECT_LT(first(NativeKind::kChain), first(NativeKind::kSet));
  EXPECT_LT(first(NativeKind::kSet), first(NativeKind::kElements));
  EXPECT_LT(first(NativeKind::kElements), first(NativeKind::kRule));
}

TEST(NativeWire, CalicoAndObjectCaptures) {
  const auto c = native_capture("calico", kIp);
  EXPECT_EQ(c.counts.chains, 11u);
  EXPECT_EQ(c.counts.base_chains, 4u);
  EXPECT_EQ(c.counts.rules, 17u);
  EXPECT_EQ(c.counts.sets, 7u);  // 5 named (intervals, ifname vmaps), 2 anonymous
  EXPECT_EQ(c.counts.elements, 21u);
  const auto o = native_capture("objects", kInet);
  EXPECT_EQ(o.counts.objects, 2u);    // counter web-hits, quota monthly
  EXPECT_EQ(o.counts.sets, 5u);       // 4 named (one constant), 1 anonymous
  EXPECT_EQ(o.counts.elements, 10u);  // including the catch-all
  EXPECT_EQ(o.counts.rules, 6u);
}

TEST(NativeWire, StripsWhatTheKernelGenerates) {
  // Every kept message re-describes and holds no handle: the table's attributes are name,
  // flags, userdata only, so a message is a few dozen bytes.
  const auto s = native_capture("objects", kInet);
  for (const auto& m : s.msgs) {
    ngnft_tmsg_info info;
    ASSERT_EQ(ngnft_tmsg_describe(static_cast<int>(m.kind), m.attrs.data(), m.attrs.size(), &info),
              0);
    EXPECT_EQ(m.attrs.size() % 4, 0u);
  }
  // Element expiration (the time left) is gone: two captures of the timeout set a few ms apart
  // would differ otherwise; here, no element holds attribute 6 (NFTA_SET_ELEM_EXPIRATION).
  for (const auto& m : s.msgs) {
    if (m.kind != NativeKind::kElements) continue;
    std::vector<std::string> elems;
    ngnft_setelem_each(
        m.attrs.data(), m.attrs.size(),
        [](void* ctx, const void* e, size_t len) {
          static_cast<std::vector<std::string>*>(ctx)->emplace_back(static_cast<const char*>(e),
                                                                    len);
        },
        &elems);
    for (const auto& e : elems) {
      for (size_t at = 0; at + 4 <= e.size();) {
        uint16_t len, type;
        memcpy(&len, e.data() + at, 2);
        memcpy(&type, e.data() + at + 2, 2);
        EXPECT_NE(type & 0x3fff, 6) << "expiration kept";
        if (len < 4) break;
        at += (len + 3u) & ~3u;
      }
    }
  }
}

TEST(NativeWire, OtherTablesAndFamiliesAreFilteredOut) {
  for (const auto& r : ng::testing::nft_hex_replies("native/kube-proxy.hex")) {
    int n = 0;
    auto cb = [](void* ctx, int, const void*, size_t) { ++*static_cast<int*>(ctx); };
    EXPECT_GE(ngnft_table_parse(r.data(), r.size(), kIp, "calico", cb, &n, nullptr), 0);
    EXPECT_GE(ngnft_table_parse(r.data(), r.size(), 10, "kube-proxy", cb, &n, nullptr), 0);
    EXPECT_EQ(n, 0);
  }
}

TEST(NativeWire, TruncatedBuffersAreRejectedNotTrusted) {
  for (const auto& r : ng::testing::nft_hex_replies("native/calico.hex")) {
    for (size_t cut : {size_t{1}, size_t{17}, r.size() / 2, r.size() - 3}) {
      if (cut >= r.size()) continue;
      std::string b = r.substr(0, cut);
      auto cb = [](void*, int, const void*, size_t) {};
      const int rc = ngnft_table_parse(b.data(), b.size(), kIp, "calico", cb, nullptr, nullptr);
      EXPECT_LE(rc, 1);
    }
  }
}

int batch_messages(const NativeTableSnapshot& s, int del, int* rc) {
  std::vector<ngnft_tmsg> msgs;
  for (const auto& m : s.msgs)
    msgs.push_back({static_cast<int>(m.kind), m.attrs.data(), m.attrs.size()});
  ngnft_batch* b = nullptr;
  *rc = ngnft_table_restore_batch(s.table.nfproto, s.table.name.c_str(), del, msgs.data(),
                                  msgs.size(), 42, 1, &b);
  const int n = b ? static_cast<int>(ngnft_batch_messages(b)) : -1;
  ngnft_batch_free(b);
  return n;
}

TEST(NativeWire, RestoreBatchIsOneTransactionOfTheTableOnly) {
  const auto s = native_capture("kube-proxy", kIp);
  int rc = 0;
  EXPECT_EQ(batch_messages(s, 0, &rc), static_cast<int>(s.msgs.size()));
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(batch_messages(s, 1, &rc), static_cast<int>(s.msgs.size()) + 1);  // DELTABLE first
  // A snapshot claiming another table's messages is refused whole.
  auto other = s;
  other.table.name = "calico";
  EXPECT_EQ(batch_messages(other, 0, &rc), -1);
  EXPECT_EQ(rc, -EINVAL);
}

// The restore batch's order (nft_restore_order.h): each anonymous set and its elements right
// before the first rule naming it, a constant set's elements right after it, the chains
// binding anonymous sets first, rules in chain order.
TEST(NativeWire, AnonymousSetsAreCreatedRightBeforeTheirRule) {
  for (const char* table : {"kube-proxy", "calico", "objects"}) {
    SCOPED_TRACE(table);
    const auto s = native_capture(table, std::string(table) == "objects" ? kInet : kIp);
    std::vector<ngnft_tmsg> msgs;
    for (const auto& m : s.msgs)
      msgs.push_back({static_cast<int>(m.kind), m.attrs.data(), m.attrs.size()});
    size_t* raw = nullptr;
    ASSERT_EQ(ngnft_restore_order(msgs.data(), msgs.size(), &raw), 0);
    std::vector<size_t> order(raw, raw + msgs.size());
    std::free(raw);
    auto sorted = order;
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size(); ++i) ASSERT_EQ(sorted[i], i);  // each exactly once
    std::map<std::string, size_t> last_rule;  // chain -> index of its last placed rule
    std::set<std::string> defined;            // chains and sets created so far
    int anon = 0, constant = 0;
    for (size_t k = 0; k < order.size(); ++k) {
      const auto& m = msgs[order[k]];
      ngnft_tmsg_info info{};
      ASSERT_EQ(ngnft_tmsg_describe(m.kind, m.attrs, m.len, &info), 0);
      if (m.kind == NGNFT_T_CHAIN || m.kind == NGNFT_T_SET) defined.insert(info.name);
      if (m.kind == NGNFT_T_SETELEM) {
        EXPECT_TRUE(defined.count(info.name)) << info.name;
      }
      if (m.kind == NGNFT_T_SET && (info.set_flags & NFT_SET_CONSTANT) &&
          !(info.set_flags & NFT_SET_ANONYMOUS)) {
        ++constant;  // its elements right after it: the kernel refuses them once it is bound
        ASSERT_LT(k + 1, order.size());
        ngnft_tmsg_info next{};
        const auto& n = msgs[order[k + 1]];
        ASSERT_EQ(ngnft_tmsg_describe(n.kind, n.attrs, n.len, &next), 0);
        EXPECT_EQ(n.kind, NGNFT_T_SETELEM);
        EXPECT_STREQ(next.name, info.name);
      }
      if (m.kind == NGNFT_T_SET && (info.set_flags & NFT_SET_ANONYMOUS)) {
        ++anon;
        // Its elements (and other anonymous sets the same rule binds), then the rule.
        size_t j = k + 1;
        while (j < order.size() &&
               (msgs[order[j]].kind == NGNFT_T_SETELEM || msgs[order[j]].kind == NGNFT_T_SET))
          ++j;
        ASSERT_LT(j, order.size());
        EXPECT_EQ(msgs[order[j]].kind, NGNFT_T_RULE) << info.name;
      }
      if (m.kind == NGNFT_T_RULE) {
        EXPECT_TRUE(defined.count(info.chain)) << info.chain;
        auto it = last_rule.find(info.chain);
        if (it != last_rule.end()) {
          EXPECT_LT(it->second, order[k]) << "rule order in chain";
        }
        last_rule[info.chain] = order[k];
      }
    }
    if (std::string(table) == "kube-proxy") {
      EXPECT_GT(anon, 0);
    }
    if (std::string(table) == "objects") {
      EXPECT_EQ(constant, 1);
    }
  }
}

TEST(NativeWire, RestoreOrderOfNothingAndOfGarbage) {
  size_t* order = nullptr;
  EXPECT_EQ(ngnft_restore_order(nullptr, 0, &order), 0);
  std::free(order);
  const unsigned char junk[] = {0xff, 0xff, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00};
  ngnft_tmsg m{NGNFT_T_SET, junk, sizeof(junk)};
  EXPECT_EQ(ngnft_restore_order(&m, 1, &order), -EINVAL);
  EXPECT_EQ(order, nullptr);
}

TEST(NativeSnapshot, SameIgnoresCountersAndElementOrder) {
  const auto a = native_capture("kube-proxy", kIp);
  EXPECT_TRUE(same_native_table(a, a));
  // Element messages in another order (a re-created hash set dumps in its own order).
  auto b = a;
  std::stable_partition(b.msgs.begin(), b.msgs.end(),
                        [](auto& m) { return m.kind != NativeKind::kElements; });
  std::mt19937 rng(7);
  auto first = std::find_if(b.msgs.begin(), b.msgs.end(),
                            [](auto& m) { return m.kind == NativeKind::kElements; });
  std::shuffle(first, b.msgs.end(), rng);
  EXPECT_TRUE(same_native_table(a, b));
  // A rule less is a different table.
  bool dropped = false;
  auto c = without(a, [&](const NativeMsg& m) {
    if (dropped || m.kind != NativeKind::kRule) return false;
    return dropped = true;
  });
  EXPECT_FALSE(same_native_table(a, c));
}

TEST(NativeSnapshot, CountersDoNotMakeADifference) {
  const auto a = native_capture("objects", kInet);
  auto b = a;
  bool changed = false;
  for (auto& m : b.msgs) {
    if (m.kind != NativeKind::kObject) continue;
    const std::string before = m.attrs;
    ASSERT_EQ(ngnft_tmsg_canonicalize(NGNFT_T_OBJ, m.attrs.data(), m.attrs.size()), 0);
    changed |= before != m.attrs;
  }
  EXPECT_TRUE(changed);  // web-hits held 7 packets, monthly 1 MB used
  EXPECT_TRUE(same_native_table(a, b));
}

NativeWriter writer(std::string comm, std::string parent = "", bool self = false) {
  NativeWriter w;
  w.writer.pid = 4242;
  w.writer.comm = std::move(comm);
  w.parent_comm = std::move(parent);
  w.self = self;
  return w;
}

const std::vector<std::string> kOwners = {"kube-proxy"};

TEST(NativeClassify, WipeShapes) {
  const auto good = native_capture("kube-proxy", kIp);
  EXPECT_EQ(wipe_shape(good, std::nullopt), "table_deleted");
  EXPECT_EQ(wipe_shape(good, without(good, [](auto& m) { return m.kind != NativeKind::kTable; })),
            "chains_deleted");
  EXPECT_EQ(wipe_shape(good, without(good, [](auto& m) { return m.kind == NativeKind::kRule; })),
            "base_chains_emptied");
  // Element changes and per-service chains flushed are not wipes.
  EXPECT_EQ(
      wipe_shape(good, without(good, [](auto& m) { return m.kind == NativeKind::kElements; })), "");
  EXPECT_EQ(wipe_shape(good, good), "");
  // An empty table (`nft add table` alone) owes nothing: its deletion is learned.
  const auto empty = without(good, [](auto& m) { return m.kind != NativeKind::kTable; });
  EXPECT_EQ(wipe_shape(empty, std::nullopt), "");
}

TEST(NativeClassify, ForeignWipeIsRepairedOwnerWipeIsLearned) {
  const auto good = native_capture("kube-proxy", kIp);
  auto c = classify_native_change(good, std::nullopt, {writer("nft")}, kOwners);
  EXPECT_EQ(c.verdict, NativeVerdict::kWipe);
  EXPECT_EQ(c.shape, "table_deleted");
  EXPECT_EQ(c.wiper.writer.comm, "nft");
  // kube-proxy itself (or the `nft` it runs) deleting its table: learned.
  EXPECT_EQ(classify_native_change(good, std::nullopt, {writer("kube-proxy")}, kOwners).verdict,
            NativeVerdict::kLearn);
  EXPECT_EQ(
      classify_native_change(good, std::nullopt, {writer("nft", "kube-proxy")}, kOwners).verdict,
      NativeVerdict::kLearn);
  // An owner write followed by a foreign wipe: the foreign writer is blamed.
  c = classify_native_change(good, std::nullopt, {writer("nft", "kube-proxy"), writer("ansible")},
                             kOwners);
  EXPECT_EQ(c.verdict, NativeVerdict::kWipe);
  EXPECT_EQ(c.wiper.writer.comm, "ansible");
  // Lost notifications: the writer is unknown, a wipe is repaired.
  EXPECT_EQ(classify_native_change(good, std::nullopt, {}, kOwners).verdict, NativeVerdict::kWipe);
  // Our own writes are never judged.
  EXPECT_EQ(
      classify_native_change(good, std::nullopt, {writer("nodeguard", "", true)}, kOwners).verdict,
      NativeVerdict::kLearn);
}

TEST(NativeClassify, NonWipeChangesByAnyoneAreLearned) {
  const auto good = native_capture("kube-proxy", kIp);
  const auto fewer = without(good, [](auto& m) { return m.kind == NativeKind::kElements; });
  EXPECT_EQ(classify_native_change(good, fewer, {writer("nft")}, kOwners).verdict,
            NativeVerdict::kLearn);
}

TEST(NativeConfig, SpecSyntax) {
  auto ok = parse_native_table_spec("ip kube-proxy kube-proxy,calico-node");
  ASSERT_TRUE(std::holds_alternative<NativeTableSpec>(ok));
  const auto& spec = std::get<NativeTableSpec>(ok);
  EXPECT_EQ(spec.table.nfproto, 2);
  EXPECT_EQ(spec.table.name, "kube-proxy");
  EXPECT_EQ(spec.owners, (std::vector<std::string>{"kube-proxy", "calico-node"}));
  ok = parse_native_table_spec("  inet   filter ");
  ASSERT_TRUE(std::holds_alternative<NativeTableSpec>(ok));
  EXPECT_TRUE(std::get<NativeTableSpec>(ok).owners.empty());
  for (const char* bad :
       {"", "ip", "ipx kube-proxy", "ip a b c", "ip t a-very-long-process-name", "ip t a,,b"}) {
    EXPECT_TRUE(std::holds_alternative<std::string>(parse_native_table_spec(bad))) << bad;
  }
  NativeTablesConfig defaults;
  const auto specs = native_table_specs(defaults);
  EXPECT_EQ(specs.size(), defaults.tables.size());
  EXPECT_EQ(native_table_id(specs[0].table), "ip kube-proxy");
}

}  // namespace
}  // namespace ng::netfilter::native
