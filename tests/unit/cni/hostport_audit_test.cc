#include "netfilter/cni/hostport_audit.h"

#include <gmock/gmock.h>

#include "tests/unit/cni/cni_test_data.h"

namespace ng::netfilter::cni {
namespace {

using ::testing::ElementsAre;
using json = nlohmann::json;

std::vector<PortmapInvocation> matrix() {
  std::vector<PortmapInvocation> out;
  for (const auto& name : testing::cni_lines(testing::cni_data("matrix/order"))) {
    auto r = parse_cache_file(testing::cni_data("matrix/results/" + name));
    for (auto& inv : plan_portmap(std::get<CacheEntry>(r), PortmapVersion{}).invocations) {
      out.push_back(std::move(inv));
    }
  }
  return out;
}

Table captured(Family f) {
  return *parse_table(testing::cni_data("matrix/nat-" + std::string(to_string(f)) + ".save"),
                      "nat");
}

TEST(HostportAudit, NothingMissingWhenThePluginsRulesAreThere) {
  for (Family f : {Family::kIPv4, Family::kIPv6}) {
    auto a = audit_hostports(matrix(), f, captured(f));
    EXPECT_EQ(a.missing_rules, 0u);
    EXPECT_TRUE(a.missing.empty());
    EXPECT_TRUE(a.mismatched.empty());
    EXPECT_TRUE(a.waiting.empty());
    EXPECT_GT(a.expected_rules, 50u);
  }
}

TEST(HostportAudit, EverythingMissingAfterAFlushAndCountedPerContainer) {
  Table empty;
  empty.name = "nat";
  // KUBE-MARK-MASQ is gone too: the container using it as its mark chain waits for it.
  auto a = audit_hostports(matrix(), Family::kIPv4, empty);
  EXPECT_EQ(a.missing_rules, a.expected_rules);
  EXPECT_EQ(a.waiting.size(), 1u);
  EXPECT_EQ(a.missing.size(), 6u);
  for (const auto& ec : a.contributions) {
    for (const auto& r : ec.chain.rules) EXPECT_NE(r.target, "KUBE-MARK-MASQ") << r.spec;
  }
  // With the chain there, it is included.
  Table kube = empty;
  kube.chains.push_back(Chain{"KUBE-MARK-MASQ", "-", "", {}});
  a = audit_hostports(matrix(), Family::kIPv4, kube);
  EXPECT_TRUE(a.waiting.empty());
  EXPECT_EQ(a.missing.size(), 7u);
}

TEST(HostportAudit, OneDeletedDnatRuleIsOneMissingRuleOfItsContainer) {
  Table t = captured(Family::kIPv4);
  Chain* dn = t.find("CNI-DN-38d4b3a30b82171881717");  // nosnat/c2
  ASSERT_NE(dn, nullptr);
  dn->rules.clear();  // emptied in place: not what the cache says, so it is left alone
  auto a = audit_hostports(matrix(), Family::kIPv4, t);
  EXPECT_THAT(a.mismatched, ElementsAre("CNI-DN-38d4b3a30b82171881717"));
  EXPECT_EQ(a.missing_rules, 0u);
  // Chain and its jump gone (a flush of it): missing, attributed to the container.
  t = captured(Family::kIPv4);
  t.chains.erase(std::find_if(t.chains.begin(), t.chains.end(), [](const Chain& c) {
    return c.name == "CNI-DN-38d4b3a30b82171881717";
  }));
  auto& top = t.find("CNI-HOSTPORT-DNAT")->rules;
  top.erase(
      std::remove_if(top.begin(), top.end(),
                     [](const Rule& r) { return r.target == "CNI-DN-38d4b3a30b82171881717"; }),
      top.end());
  a = audit_hostports(matrix(), Family::kIPv4, t);
  EXPECT_EQ(a.missing_rules, 2u);
  ASSERT_EQ(a.missing.size(), 1u);
  EXPECT_EQ(a.missing[0].network, "nosnat");
  EXPECT_EQ(a.missing[0].container_id, "c2");
  EXPECT_EQ(a.missing[0].rules, 2u);
}

}  // namespace
}  // namespace ng::netfilter::cni
