#include "netfilter/firewalld/firewalld_policy.h"

#include <gmock/gmock.h>

#include "tests/unit/firewalld/recorded_answers.h"

namespace ng::netfilter::firewalld {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::load_answer;

TEST(ZoneSettings, DecodesRecordedAnswerOfThePublicZone) {
  auto z = decode_zone_settings("public", load_answer("partial", "getZoneSettings2-public.json"));
  ASSERT_TRUE(z.ok()) << z.error().message;
  EXPECT_EQ(z->target, "default");
  EXPECT_THAT(z->interfaces, ElementsAre("eth0"));
  EXPECT_THAT(z->services, ElementsAre("ssh", "dhcpv6-client", "http"));
  ASSERT_EQ(z->ports.size(), 1u);
  EXPECT_EQ(z->ports[0].str(), "30000-31000/tcp");
  EXPECT_EQ(z->rich_rules.size(), 1u);
  EXPECT_TRUE(z->forward);
  EXPECT_FALSE(z->masquerade);
}

TEST(ZoneSettings, AbsentKeysAreEmpty) {
  // Debian's stock public zone: no ports, interfaces or sources keys at all.
  auto z = decode_zone_settings("public", load_answer("stock", "getZoneSettings2-public.json"));
  ASSERT_TRUE(z.ok());
  EXPECT_TRUE(z->ports.empty());
  EXPECT_TRUE(z->interfaces.empty());
  EXPECT_TRUE(z->sources.empty());
  EXPECT_FALSE(z->accepts_all());
}

TEST(ZoneSettings, TrustedZoneAcceptsAll) {
  auto z =
      decode_zone_settings("trusted", load_answer("k8s_ready", "getZoneSettings2-trusted.json"));
  ASSERT_TRUE(z.ok());
  EXPECT_TRUE(z->accepts_all());
  EXPECT_THAT(z->interfaces, ::testing::Contains("cali+"));
  EXPECT_THAT(z->sources, ElementsAre("10.244.0.0/16"));
}

TEST(ZoneSettings, DecodesThePre09Tuple) {
  auto z =
      decode_zone_settings("public", load_answer("legacy_tuples", "getZoneSettings-public.json"));
  ASSERT_TRUE(z.ok()) << z.error().message;
  EXPECT_EQ(z->target, "default");
  EXPECT_THAT(z->services, ElementsAre("ssh", "dhcpv6-client"));
}

TEST(ZoneSettings, BadAnswersAreErrorsNamingTheKey) {
  auto not_dict = decode_zone_settings("public", DbusValue::str("nonsense"));
  ASSERT_FALSE(not_dict.ok());
  EXPECT_EQ(not_dict.error().kind, core::EnvErrorKind::kInvalidInput);
  EXPECT_THAT(not_dict.error().message, HasSubstr("zone public"));

  auto wrong_type =
      decode_zone_settings("public", DbusValue::dict({{"ports", DbusValue::str("x")}}));
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_THAT(wrong_type.error().message, HasSubstr("zone public ports"));

  auto bad_port = decode_zone_settings(
      "public",
      DbusValue::dict({{"ports", DbusValue::array({DbusValue::tuple(
                                     {DbusValue::str("99999"), DbusValue::str("tcp")})})}}));
  ASSERT_FALSE(bad_port.ok());
  EXPECT_THAT(bad_port.error().message, HasSubstr("not a port"));

  auto short_tuple = decode_zone_settings("public", DbusValue::tuple({DbusValue::str("")}));
  EXPECT_FALSE(short_tuple.ok());
}

TEST(ServiceSettings, DecodesPortsIncludesAndTheOldTuple) {
  auto kw = decode_service_settings(
      "kube-worker", load_answer("services", "getServiceSettings2-kube-worker.json"));
  ASSERT_TRUE(kw.ok());
  EXPECT_THAT(kw->includes, ElementsAre("kubelet", "kube-nodeport-services"));
  EXPECT_TRUE(kw->ports.empty());
  auto np = decode_service_settings(
      "kube-nodeport-services",
      load_answer("services", "getServiceSettings2-kube-nodeport-services.json"));
  ASSERT_TRUE(np.ok());
  ASSERT_EQ(np->ports.size(), 1u);
  EXPECT_EQ(np->ports[0].str(), "30000-32767/tcp");
  auto ssh =
      decode_service_settings("ssh", load_answer("legacy_tuples", "getServiceSettings-ssh.json"));
  ASSERT_TRUE(ssh.ok()) << ssh.error().message;
  ASSERT_EQ(ssh->ports.size(), 1u);
  EXPECT_EQ(ssh->ports[0].str(), "22/tcp");
  EXPECT_FALSE(decode_service_settings("x", DbusValue::boolean(true)).ok());
}

TEST(ActiveZones, DecodesInterfacesAndSources) {
  auto a = decode_active_zones(load_answer("partial", "getActiveZones.json"));
  ASSERT_TRUE(a.ok());
  EXPECT_THAT(a->at("internal").first, ElementsAre("cali+"));
  EXPECT_THAT(a->at("internal").second, ElementsAre("192.168.50.0/24"));
  EXPECT_THAT(a->at("work").second, ElementsAre("10.244.0.0/16"));
  EXPECT_TRUE(decode_active_zones(load_answer("stock", "getActiveZones.json"))->empty());
  EXPECT_FALSE(decode_active_zones(DbusValue::dict({{"public", DbusValue::str("eth0")}})).ok());
}

TEST(Ports, ParseAndCover) {
  auto r = parse_port_spec("30000-32767", "udp");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->covers(30000, "udp"));
  EXPECT_FALSE(r->covers(30000, "tcp"));
  EXPECT_FALSE(parse_port_spec("32767-30000", "tcp"));
  EXPECT_FALSE(parse_port_spec("80", ""));
  EXPECT_FALSE(parse_port_spec("http", "tcp"));
  EXPECT_FALSE(parse_port_spec("1-", "tcp"));
}

TEST(Zones, InterfaceBindingExactBeforeWildcardElseDefault) {
  FirewalldPolicy p;
  p.default_zone = "public";
  p.active["trusted"] = {{"cali+", "tunl0"}, {}};
  p.active["internal"] = {{"cali0", "calix+"}, {}};
  EXPECT_EQ(p.zone_of_interface("cali12ab"), "trusted");
  EXPECT_EQ(p.zone_of_interface("cali0"), "internal");    // exact wins
  EXPECT_EQ(p.zone_of_interface("calixyz"), "internal");  // longest wildcard wins
  EXPECT_EQ(p.zone_of_interface("eth0"), "public");       // unbound: the default zone
  EXPECT_TRUE(interface_matches("cali+", "cali"));
  EXPECT_FALSE(interface_matches("cali", "cali0"));
}

TEST(Zones, SourceBindingByContainment) {
  FirewalldPolicy p;
  p.active["internal"] = {{}, {"192.168.50.0/24", "ipset:nodes", "00:11:22:33:44:55"}};
  p.active["trusted"] = {{}, {"10.244.0.0/16", "fd00:10::/56"}};
  EXPECT_EQ(p.zone_of_source("192.168.50.7"), "internal");
  EXPECT_EQ(p.zone_of_source("10.244.3.0/24"), "trusted");
  EXPECT_EQ(p.zone_of_source("fd00:10:0:1::/64"), "trusted");
  EXPECT_FALSE(p.zone_of_source("10.0.0.0/8"));  // wider than the binding
  EXPECT_FALSE(p.zone_of_source("not an address"));
}

}  // namespace
}  // namespace ng::netfilter::firewalld
