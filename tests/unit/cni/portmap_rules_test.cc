#include "netfilter/cni/portmap_rules.h"

#include <gmock/gmock.h>

#include "tests/unit/cni/cni_test_data.h"

namespace ng::netfilter::cni {
namespace {

using ::testing::ElementsAre;
using json = nlohmann::json;

const PortmapVersion kV111{1, 1, 1};

std::vector<PortmapInvocation> adds_of(const std::vector<std::string>& files,
                                       const std::string& dir, const PortmapVersion& v = kV111) {
  std::vector<PortmapInvocation> out;
  for (const auto& name : files) {
    auto r = parse_cache_file(testing::cni_data(dir + "/results/" + name));
    auto* e = std::get_if<CacheEntry>(&r);
    if (!e) {
      ADD_FAILURE() << name << ": " << std::get<CacheFileError>(r).message;
      continue;
    }
    auto plan = plan_portmap(*e, v);
    EXPECT_EQ(plan.unsupported, "") << name;
    for (auto& inv : plan.invocations) out.push_back(std::move(inv));
  }
  return out;
}

// The declared user chains and every rule ("-A CHAIN spec"), sorted: the same set of lines.
// Order within chains is checked rule by rule separately.
std::vector<std::string> save_lines(const Table& t) {
  std::vector<std::string> out;
  for (const auto& c : t.chains) {
    if (!c.builtin()) out.push_back(":" + c.name);
    for (const auto& r : c.rules) out.push_back(render_rule(c.name, r));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Table as_table(const PortmapTable& p) {
  Table t;
  t.name = "nat";
  for (const auto& ec : p.chains) t.chains.push_back(ec.chain);
  return t;
}

TEST(PortmapRules, ChainNamesAreThePluginsOwn) {
  // Names the real plugin created (tests/testdata/cni, tests/unit/netfilter/data).
  EXPECT_EQ(dnat_chain_name("k8s-pod-network", "abc123def456"), "CNI-DN-d3965bcbc3dd2fee4b494");
  EXPECT_EQ(dnat_chain_name("dual", "c1"), "CNI-DN-8249098888ae8f22dc7a2");
  EXPECT_EQ(dnat_chain_name("k8s-pod-network", "fed987cba654"), "CNI-DN-cc820761a413e3641b2b2");
  EXPECT_EQ(dnat_chain_name("a", "b").size(), 28u);
}

// The real plugin's output for a matrix of dual-stack pods (tests/testdata/cni/capture.sh):
// replaying the cache files gives exactly its rules, for both families.
TEST(PortmapRules, ReplayEqualsThePluginsOutputByteForByte) {
  const auto order = testing::cni_lines(testing::cni_data("matrix/order"));
  ASSERT_EQ(order.size(), 7u);
  const auto adds = adds_of(order, "matrix");
  ASSERT_EQ(adds.size(), 7u);
  for (Family f : {Family::kIPv4, Family::kIPv6}) {
    const std::string file = "matrix/nat-" + std::string(to_string(f)) + ".save";
    auto captured = parse_table(testing::cni_data(file), "nat");
    ASSERT_TRUE(captured.ok()) << captured.error().message;
    // The external set-mark chain was made by "kube-proxy" before the ADDs, not by portmap.
    auto& chains = captured->chains;
    chains.erase(std::remove_if(chains.begin(), chains.end(),
                                [](const Chain& c) { return c.name == "KUBE-MARK-MASQ"; }),
                 chains.end());
    const PortmapTable replay = replay_portmap(adds, f);
    EXPECT_EQ(save_lines(as_table(replay)), save_lines(*captured)) << file;
    // Rule by rule in chain order too, not only as sets.
    for (const auto& ec : replay.chains) {
      const Chain* c = captured->find(ec.chain.name);
      ASSERT_NE(c, nullptr) << ec.chain.name;
      std::vector<std::string> want, got;
      for (const auto& r : c->rules) want.push_back(r.spec);
      for (const auto& r : ec.chain.rules) got.push_back(r.spec);
      EXPECT_EQ(got, want) << file << " " << ec.chain.name;
    }
  }
}

TEST(PortmapRules, EntryJumpsAppendAndTheMasqueradeJumpPrepends) {
  const auto adds = adds_of(testing::cni_lines(testing::cni_data("matrix/order")), "matrix");
  const PortmapTable t = replay_portmap(adds, Family::kIPv4);
  ASSERT_NE(t.find("PREROUTING"), nullptr);
  EXPECT_TRUE(t.find("PREROUTING")->append);
  EXPECT_TRUE(t.find("OUTPUT")->append);
  EXPECT_FALSE(t.find("POSTROUTING")->append);
  EXPECT_TRUE(t.find("PREROUTING")->chain.builtin());
  EXPECT_FALSE(t.find("CNI-HOSTPORT-DNAT")->chain.builtin());
  // Targets and comments are parsed for the guard.
  const auto& entry = t.find("CNI-HOSTPORT-DNAT")->chain.rules.front();
  EXPECT_EQ(entry.target, "CNI-DN-8249098888ae8f22dc7a2");
  EXPECT_EQ(entry.comment, "dnat name: \"dual\" id: \"c1\"");
  // The external set-mark chain's container knows it needs that chain.
  bool external = false;
  for (const auto& d : t.dnat_chains) {
    if (d.network == "external") {
      external = true;
      EXPECT_THAT(d.external_chains, ElementsAre("KUBE-MARK-MASQ"));
    }
  }
  EXPECT_TRUE(external);
}

TEST(PortmapRules, MasqAllOfNewerReleasesDropsTheSourceMatch) {
  json conf = testing::conflist("net", {{"masqAll", true}});
  auto r = parse_cache_file(testing::cache_file("net", "abc", conf,
                                                json::array({testing::mapping(8080, 80)}),
                                                "10.244.1.7/24", "fd00::7/64")
                                .dump());
  auto plan = plan_portmap(std::get<CacheEntry>(r), PortmapVersion{1, 2, 0});
  ASSERT_EQ(plan.invocations.size(), 1u);
  auto v4 = replay_portmap(plan.invocations, Family::kIPv4);
  std::vector<std::string> dn;
  for (const auto& x : v4.dnat_chains[0].rules) dn.push_back(x.spec);
  EXPECT_THAT(dn, ElementsAre("-p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK",
                              "-p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.244.1.7:80"));
  auto v6 = replay_portmap(plan.invocations, Family::kIPv6);
  dn.clear();
  for (const auto& x : v6.dnat_chains[0].rules) dn.push_back(x.spec);
  EXPECT_THAT(dn, ElementsAre("-p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK",
                              "-p tcp -m tcp --dport 8080 -j DNAT --to-destination [fd00::7]:80"));
}

TEST(PortmapRules, MarkBitsAndFamilies) {
  json conf = testing::conflist("net", {{"markMasqBit", 31}});
  auto r = parse_cache_file(
      testing::cache_file("net", "abc", conf, json::array({testing::mapping(80, 8080, "udp")}))
          .dump());
  auto plan = plan_portmap(std::get<CacheEntry>(r), kV111);
  auto t = replay_portmap(plan.invocations, Family::kIPv4);
  EXPECT_EQ(t.find("CNI-HOSTPORT-SETMARK")->chain.rules[0].spec,
            "-m comment --comment \"CNI portfwd masquerade mark\" -j MARK --set-xmark "
            "0x80000000/0x80000000");
  EXPECT_EQ(t.find("CNI-HOSTPORT-MASQ")->chain.rules[0].spec,
            "-m mark --mark 0x80000000/0x80000000 -j MASQUERADE");
  // No IPv6 address: nothing in the IPv6 table.
  EXPECT_EQ(replay_portmap(plan.invocations, Family::kIPv6).rule_count(), 0u);
  EXPECT_TRUE(replay_portmap({}, Family::kIPv4).chains.empty());
}

}  // namespace
}  // namespace ng::netfilter::cni
