#include "netfilter/cni/portmap_conf.h"

#include <gmock/gmock.h>

#include "tests/unit/cni/cni_test_data.h"

namespace ng::netfilter::cni {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

const PortmapVersion kV111{1, 1, 1};
const PortmapVersion kV150{1, 5, 0};

CacheEntry entry(const json& file) {
  auto r = parse_cache_file(file.dump());
  if (auto* e = std::get_if<CacheFileError>(&r)) {
    ADD_FAILURE() << e->message;
    return {};
  }
  return std::get<CacheEntry>(r);
}

json one_mapping() {
  return json::array({testing::mapping(8080, 80)});
}

TEST(PortmapConf, ConflistWithPortmapGivesOneInvocation) {
  auto plan = plan_portmap(
      entry(testing::cache_file("k8s-pod-network", "abc", testing::conflist("k8s-pod-network"),
                                one_mapping(), "10.244.1.7/24", "fd00:10:244:1::7/64")),
      kV111);
  ASSERT_EQ(plan.invocations.size(), 1u) << plan.why_none << plan.unsupported;
  const auto& inv = plan.invocations[0];
  EXPECT_EQ(inv.network, "k8s-pod-network");
  EXPECT_EQ(inv.container_id, "abc");
  EXPECT_EQ(inv.mappings.size(), 1u);
  EXPECT_TRUE(inv.options.snat);
  EXPECT_EQ(inv.options.mark_masq_bit, 13);
  ASSERT_TRUE(inv.ipv4.has_value());
  EXPECT_EQ(inv.ipv4->address.to_string(), "10.244.1.7");
  EXPECT_EQ(inv.ipv4->network().to_string(), "10.244.1.0/24");
  ASSERT_TRUE(inv.ipv6.has_value());
  EXPECT_EQ(inv.ipv6->network().to_string(), "fd00:10:244:1::/64");
}

TEST(PortmapConf, MappingsReachPortmapOnlyThroughItsCapability) {
  json conf = testing::conflist("net");
  conf["plugins"][1].erase("capabilities");
  auto plan = plan_portmap(entry(testing::cache_file("net", "abc", conf, one_mapping())), kV111);
  EXPECT_TRUE(plan.invocations.empty());
  EXPECT_THAT(plan.why_none, HasSubstr("no portmap"));
  // Without the capability, a runtimeConfig written into the conflist itself is what it sees.
  conf["plugins"][1]["runtimeConfig"] = {{"portMappings", one_mapping()}};
  plan = plan_portmap(entry(testing::cache_file("net", "abc", conf, json())), kV111);
  ASSERT_EQ(plan.invocations.size(), 1u);
  EXPECT_EQ(plan.invocations[0].mappings[0].host_port, 8080);
}

TEST(PortmapConf, NoMappingsOrNoPortmapMeansNoRules) {
  auto plan = plan_portmap(
      entry(testing::cache_file("net", "abc", testing::conflist("net"), json::array())), kV111);
  EXPECT_TRUE(plan.invocations.empty());
  json single = {{"cniVersion", "0.4.0"}, {"name", "net"}, {"type", "bridge"}};
  plan = plan_portmap(entry(testing::cache_file("net", "abc", single, one_mapping())), kV111);
  EXPECT_TRUE(plan.invocations.empty());
  EXPECT_THAT(plan.why_none, HasSubstr("single plugin"));
  json f = testing::cache_file("net", "abc", testing::conflist("net"), one_mapping());
  f.erase("config");
  plan = plan_portmap(entry(f), kV111);
  EXPECT_TRUE(plan.invocations.empty());
  EXPECT_TRUE(plan.unsupported.empty());
}

TEST(PortmapConf, OptionsAreReadAsPortmapReadsThem) {
  json conf = testing::conflist("net", {{"snat", false},
                                        {"markMasqBit", 7},
                                        {"masqAll", true},
                                        {"conditionsV4", {"-d", "192.168.0.0/16"}},
                                        {"conditionsV6", {"!", "-s", "fd99::/64"}}});
  auto plan = plan_portmap(entry(testing::cache_file("net", "abc", conf, one_mapping())), kV111);
  ASSERT_EQ(plan.invocations.size(), 1u) << plan.unsupported;
  const auto& o = plan.invocations[0].options;
  EXPECT_FALSE(o.snat);
  EXPECT_EQ(o.mark_masq_bit, 7);
  EXPECT_FALSE(o.masq_all);  // portmap 1.1.1 has no masqAll
  EXPECT_EQ(o.conditions_v4.size(), 2u);
  plan = plan_portmap(entry(testing::cache_file("net", "abc", conf, one_mapping())),
                      PortmapVersion{1, 2, 0});
  EXPECT_TRUE(plan.invocations[0].options.masq_all);
  json ext = testing::conflist("net", {{"externalSetMarkChain", "KUBE-MARK-MASQ"}});
  plan = plan_portmap(entry(testing::cache_file("net", "abc", ext, one_mapping())), kV111);
  EXPECT_EQ(plan.invocations[0].options.external_set_mark_chain, "KUBE-MARK-MASQ");
}

TEST(PortmapConf, ConfigsPortmapRefusesNeverProduceRules) {
  struct Case {
    json portmap;
    json mappings;
    std::string says;
  } cases[] = {
      {{{"markMasqBit", 3}, {"externalSetMarkChain", "X"}}, one_mapping(), "both"},
      {{{"markMasqBit", 32}}, one_mapping(), "markMasqBit"},
      {{{"snat", "yes"}}, one_mapping(), "snat"},
      {{}, json::array({testing::mapping(0, 80)}), "<= 0"},
      {{}, json::array({testing::mapping(80, -1)}), "<= 0"},
      {{}, json::array({testing::mapping(70000, 80)}), "65535"},
      {{}, json::array({testing::mapping(80, 80, "icmp")}), "protocol"},
      {{}, json::array({testing::mapping(80, 80, "")}), "protocol"},
      {{}, json::array({testing::mapping(80, 80, "tcp", "not-an-ip")}), "hostIP"},
      {{}, json::array({testing::mapping(80, 80, "tcp", "::ffff:10.0.0.1")}), "IPv4-mapped"},
      {{{"conditionsV4", {"-m", "set", "--match-set", "x", "src"}}}, one_mapping(), "-m"},
      {{{"conditionsV4", {"-s", "fd00::/8"}}}, one_mapping(), "family"},
      {{{"conditionsV4", {"-i"}}}, one_mapping(), "without a value"},
  };
  for (const auto& c : cases) {
    auto plan = plan_portmap(
        entry(testing::cache_file("net", "abc", testing::conflist("net", c.portmap), c.mappings)),
        kV111);
    EXPECT_TRUE(plan.invocations.empty()) << c.says;
    EXPECT_THAT(plan.unsupported, HasSubstr(c.says));
  }
  // A network name and container ID too long for portmap's comment.
  auto plan = plan_portmap(
      entry(testing::cache_file("n", std::string(240, 'a'), testing::conflist("n"), one_mapping())),
      kV111);
  EXPECT_THAT(plan.unsupported, HasSubstr("comment"));
}

TEST(PortmapConf, NftablesBackendOfNewerPortmapIsNotIptables) {
  json conf = testing::conflist("net", {{"backend", "nftables"}});
  auto plan = plan_portmap(entry(testing::cache_file("net", "abc", conf, one_mapping())), kV150);
  EXPECT_THAT(plan.unsupported, HasSubstr("nftables"));
  // 1.1.1 has no such option: it writes iptables rules whatever the key says.
  plan = plan_portmap(entry(testing::cache_file("net", "abc", conf, one_mapping())), kV111);
  EXPECT_EQ(plan.invocations.size(), 1u);
}

TEST(PortmapConf, AddressesArePickedAsPortmapPicksThem) {
  json f = testing::cache_file("net", "abc", testing::conflist("net"), one_mapping());
  // The host-side interfaces' addresses (no sandbox, or another name) are skipped; the first
  // address of each family on the container interface wins.
  f["result"]["ips"] = {{{"interface", 0}, {"address", "10.244.1.1/24"}},
                        {{"interface", 2}, {"address", "10.244.1.9/24"}},
                        {{"interface", 2}, {"address", "10.244.1.10/24"}},
                        {{"interface", 7}, {"address", "fd00::9/64"}}};
  auto plan = plan_portmap(entry(f), kV111);
  ASSERT_EQ(plan.invocations.size(), 1u);
  EXPECT_EQ(plan.invocations[0].ipv4->address.to_string(), "10.244.1.9");
  ASSERT_TRUE(plan.invocations[0].ipv6.has_value());  // index out of range: kept, as portmap
  EXPECT_EQ(plan.invocations[0].ipv6->address.to_string(), "fd00::9");
  f.erase("result");
  plan = plan_portmap(entry(f), kV111);
  EXPECT_THAT(plan.unsupported, HasSubstr("no result"));
}

TEST(PortmapConf, EmbeddedConfigThatIsNotJsonIsInvalid) {
  json f = testing::cache_file("net", "abc", testing::conflist("net"), one_mapping());
  f["config"] = netfilter::base64_encode("{\"plugins\": [");
  EXPECT_THAT(plan_portmap(entry(f), kV111).invalid, HasSubstr("not JSON"));
  f["config"] = netfilter::base64_encode("[1]");
  EXPECT_THAT(plan_portmap(entry(f), kV111).invalid, HasSubstr("not a JSON object"));
}

TEST(PortmapConditions, RenderedInIptablesSaveOrder) {
  auto c = render_conditions({"!", "-i", "cni0", "-d", "192.168.5.7/24", "--source", "10.0.0.1"},
                             core::IpFamily::kV4);
  EXPECT_EQ(c.error, "");
  EXPECT_EQ(c.header, "-s 10.0.0.1/32 -d 192.168.5.0/24 ! -i cni0");
  EXPECT_EQ(render_conditions({"-s", "0.0.0.0/0"}, core::IpFamily::kV4).header, "");
  EXPECT_EQ(render_conditions({"-o", "eth+"}, core::IpFamily::kV6).header, "-o eth+");
  EXPECT_NE(render_conditions({"-s", "1.2.3.4", "-s", "1.2.3.5"}, core::IpFamily::kV4).error, "");
  EXPECT_NE(render_conditions({"!"}, core::IpFamily::kV4).error, "");
  EXPECT_NE(render_conditions({"-i", "a b"}, core::IpFamily::kV4).error, "");
}

TEST(PortmapVersionTest, ParsesReleases) {
  EXPECT_TRUE(parse_portmap_version("1.1.1"));
  EXPECT_TRUE(parse_portmap_version("v1.6.2"));
  EXPECT_TRUE(parse_portmap_version("0.8.6"));
  EXPECT_FALSE(parse_portmap_version("0.8.5"));
  EXPECT_FALSE(parse_portmap_version("1.1"));
  EXPECT_FALSE(parse_portmap_version("1.1.1-rc1"));
  EXPECT_FALSE(parse_portmap_version("latest"));
  EXPECT_FALSE(parse_portmap_version("1.2.0")->at_least(1, 2, 1));
  EXPECT_TRUE(parse_portmap_version("1.2.0")->has_masq_all());
  EXPECT_FALSE(parse_portmap_version("1.1.1")->has_masq_all());
}

}  // namespace
}  // namespace ng::netfilter::cni
