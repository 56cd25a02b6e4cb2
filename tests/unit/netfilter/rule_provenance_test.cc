#include "netfilter/rule_provenance.h"

#include <gtest/gtest.h>

#include "netfilter/save_codec.h"

namespace ng::netfilter {
namespace {

// A rule as iptables-save prints it after "-A CHAIN", with its fields parsed.
Rule rule(std::string spec) {
  Rule r;
  r.spec = std::move(spec);
  EXPECT_TRUE(parse_rule_fields(r).ok()) << r.spec;
  return r;
}

bool explained(std::string_view chain, const std::string& spec, bool builtin = false) {
  return explain_rule(chain, builtin, rule(spec)).explained;
}

// Texts below are what the real plugins and kube-proxy leave (tests/unit/netfilter/data, made
// by bridge + portmap from /usr/lib/cni; kube-proxy's from pkg/proxy/iptables/proxier.go).
TEST(RuleProvenance, PortmapEntryRuleIsExplainedByItsCommentAndCarriesTheContainer) {
  auto p = explain_rule("CNI-HOSTPORT-DNAT", false,
                        rule("-p tcp -m comment --comment \"dnat name: \\\"k8s-pod-network\\\" id: "
                             "\\\"abc123def456\\\"\" -m multiport --dports 8080 -j "
                             "CNI-DN-d3965bcbc3dd2fee4b494"));
  EXPECT_TRUE(p.explained);
  EXPECT_EQ(p.owner, "portmap");
  EXPECT_EQ(p.network, "k8s-pod-network");
  EXPECT_EQ(p.container_id, "abc123def456");
}

TEST(RuleProvenance, HandWrittenDnatInTheHostportChainIsForeign) {
  auto p = explain_rule("CNI-HOSTPORT-DNAT", false,
                        rule("-p tcp -m tcp --dport 9999 -j DNAT --to-destination 10.0.0.9:80"));
  EXPECT_FALSE(p.explained);
  EXPECT_EQ(p.owner, "portmap");
  EXPECT_FALSE(p.why.empty());
  // A forged comment without the CNI-DN-* jump is not portmap's either.
  EXPECT_FALSE(
      explained("CNI-HOSTPORT-DNAT",
                "-p tcp -m comment --comment \"dnat name: \\\"n\\\" id: \\\"c\\\"\" -m tcp "
                "--dport 9999 -j DNAT --to-destination 10.0.0.9:80"));
  // Nor a jump to a chain that is not a CNI-DN-* chain.
  EXPECT_FALSE(explained("CNI-HOSTPORT-DNAT",
                         "-p tcp -m comment --comment \"dnat name: \\\"n\\\" id: \\\"c\\\"\" -m "
                         "multiport --dports 1 -j KUBE-SVC-X"));
}

TEST(RuleProvenance, PortmapFixedChainsAndContainerChains) {
  EXPECT_TRUE(explained("CNI-HOSTPORT-SETMARK",
                        "-m comment --comment \"CNI portfwd masquerade mark\" -j MARK --set-xmark "
                        "0x2000/0x2000"));
  EXPECT_FALSE(explained("CNI-HOSTPORT-SETMARK", "-j MARK --set-xmark 0x1/0x1"));
  EXPECT_TRUE(explained("CNI-HOSTPORT-MASQ", "-m mark --mark 0x2000/0x2000 -j MASQUERADE"));
  EXPECT_FALSE(explained("CNI-HOSTPORT-MASQ", "-s 10.0.0.0/8 -j MASQUERADE"));
  const std::string dn = "CNI-DN-d3965bcbc3dd2fee4b494";
  EXPECT_TRUE(explained(dn, "-s 10.244.1.0/24 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK"));
  EXPECT_TRUE(explained(dn, "-s 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK"));
  EXPECT_TRUE(explained(dn, "-p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.244.1.2:80"));
  EXPECT_TRUE(explained("CNI-DN-cc820761a413e3641b2b2",
                        "-p tcp -m tcp --dport 8443 -j DNAT --to-destination "
                        "[fd00:10:244:1::2]:80"));
  EXPECT_FALSE(explained(dn, "-j ACCEPT"));
}

TEST(RuleProvenance, BridgeMasqueradeChainNeedsItsNameIdComment) {
  const std::string c = "CNI-d3965bcbc3dd2fee4b4941a6";
  auto p =
      explain_rule(c, false,
                   rule("-d 10.244.1.0/24 -m comment --comment \"name: \\\"k8s-pod-network\\\" "
                        "id: \\\"abc123def456\\\"\" -j ACCEPT"));
  EXPECT_TRUE(p.explained);
  EXPECT_EQ(p.owner, "bridge");
  EXPECT_EQ(p.container_id, "abc123def456");
  EXPECT_FALSE(explained(c, "-d 10.9.0.0/16 -j ACCEPT"));
  // The POSTROUTING jump into it.
  EXPECT_TRUE(explained("POSTROUTING",
                        "-s 10.244.1.2/32 -m comment --comment \"name: \\\"k8s-pod-network\\\" id: "
                        "\\\"abc123def456\\\"\" -j " +
                            c,
                        true));
  EXPECT_FALSE(explained("POSTROUTING", "-s 10.9.9.9/32 -j " + c, true));
}

TEST(RuleProvenance, PortmapBuiltinJumps) {
  EXPECT_TRUE(explained("PREROUTING", "-m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT", true));
  EXPECT_TRUE(explained("OUTPUT", "-m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT", true));
  EXPECT_FALSE(explained("PREROUTING", "-p tcp -j CNI-HOSTPORT-DNAT", true));
  EXPECT_TRUE(explained("POSTROUTING",
                        "-m comment --comment \"CNI portfwd requiring masquerade\" -j "
                        "CNI-HOSTPORT-MASQ",
                        true));
  EXPECT_FALSE(explained("POSTROUTING", "-j CNI-HOSTPORT-MASQ", true));
}

TEST(RuleProvenance, KubeProxyRulesAreExplained) {
  // Commented per-service rules.
  EXPECT_TRUE(explained("KUBE-SERVICES",
                        "-d 10.96.0.10/32 -p udp -m comment --comment \"kube-system/kube-dns:dns "
                        "cluster IP\" -m udp --dport 53 -j KUBE-SVC-ERIFXISQEP7F7OF4"));
  EXPECT_TRUE(explained("KUBE-EXT-QKDW4NIGFXTFVTAA",
                        "-m comment --comment \"masquerade traffic for default/web:http external "
                        "destinations\" -j KUBE-MARK-MASQ"));
  EXPECT_TRUE(explained("KUBE-EXTERNAL-SERVICES",
                        "-p tcp -m comment --comment \"default/x:http has no endpoints\" -m "
                        "addrtype --dst-type LOCAL -m tcp --dport 30081 -j REJECT --reject-with "
                        "icmp-port-unreachable"));
  // Uncommented: jumps to KUBE-* chains (largeClusterMode drops comments), gotos, fixed rules.
  EXPECT_TRUE(explained("KUBE-SVC-X",
                        "-m statistic --mode random --probability 0.33332999982 -j KUBE-SEP-Y"));
  EXPECT_TRUE(explained("KUBE-EXT-QKDW4NIGFXTFVTAA", "-g KUBE-SVC-TCOU7JCQXEZGVUNU"));
  EXPECT_TRUE(explained("KUBE-SEP-FTIQ6MSD3LWO5HZX",
                        "-p tcp -m tcp -j DNAT --to-destination 10.244.1.2:8080"));
  EXPECT_TRUE(explained("KUBE-MARK-MASQ", "-j MARK --set-xmark 0x4000/0x4000"));
  EXPECT_TRUE(explained("KUBE-POSTROUTING", "-m mark ! --mark 0x4000/0x4000 -j RETURN"));
  EXPECT_TRUE(explained("KUBE-POSTROUTING", "-j MARK --set-xmark 0x4000/0x0"));
  EXPECT_TRUE(explained("KUBE-FORWARD", "-m conntrack --ctstate INVALID -j DROP"));
  EXPECT_TRUE(explained("KUBE-FIREWALL", "-m mark --mark 0x8000/0x8000 -j DROP"));
  // Built-in jumps: commented, or kubelet's bare -j KUBE-FIREWALL.
  EXPECT_TRUE(explained(
      "PREROUTING", "-m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES", true));
  EXPECT_TRUE(explained("INPUT", "-j KUBE-FIREWALL", true));
}

TEST(RuleProvenance, HandWrittenRulesInKubeChainsAreForeign) {
  auto p = explain_rule("KUBE-SERVICES", false,
                        rule("-d 10.96.0.1/32 -p tcp -m tcp --dport 443 -j DNAT "
                             "--to-destination 10.9.9.9:443"));
  EXPECT_FALSE(p.explained);
  EXPECT_EQ(p.owner, "kube-proxy");
  EXPECT_FALSE(explained("KUBE-FORWARD", "-s 10.0.0.0/8 -j ACCEPT"));
  EXPECT_FALSE(explained("PREROUTING", "-p tcp --dport 80 -j KUBE-SERVICES", true));
}

TEST(RuleProvenance, CalicoRulesCarryCaliHashes) {
  EXPECT_TRUE(explained("cali-FORWARD",
                        "-m comment --comment \"cali:vjrMJCRpqwy5oRoX\" -j MARK --set-xmark "
                        "0x0/0xe0000"));
  EXPECT_TRUE(
      explained("FORWARD", "-m comment --comment \"cali:wUHhoiAYhphO9Mso\" -j cali-FORWARD", true));
  EXPECT_FALSE(explained("cali-FORWARD", "-j ACCEPT"));
  EXPECT_FALSE(explained("FORWARD", "-j cali-FORWARD", true));
}

TEST(RuleProvenance, OtherChainsHaveNoOpinion) {
  EXPECT_TRUE(explained("CNI-FORWARD", "-s 10.88.0.5/32 -j ACCEPT"));
  EXPECT_TRUE(explained("MY-GUARDED", "-j DROP"));
  EXPECT_TRUE(explained("PREROUTING", "-j MY-GUARDED", true));
}

TEST(RuleProvenance, CniCommentParsing) {
  auto d = parse_cni_comment("dnat name: \"k8s-pod-network\" id: \"abc\"");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->dnat);
  EXPECT_EQ(d->network, "k8s-pod-network");
  EXPECT_EQ(d->container_id, "abc");
  auto b = parse_cni_comment("name: \"cbr0\" id: \"0123\"");
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->dnat);
  EXPECT_EQ(b->container_id, "0123");
  // Cut at 255 characters by the plugin: what survived of the id.
  auto cut = parse_cni_comment("dnat name: \"n\" id: \"0123456789...");
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->container_id, "0123456789");
  EXPECT_FALSE(parse_cni_comment("kubernetes service portals"));
  EXPECT_FALSE(parse_cni_comment("name: \"n\""));
  EXPECT_FALSE(parse_cni_comment(""));
  EXPECT_FALSE(parse_cni_comment("dnat name: "));
}

}  // namespace
}  // namespace ng::netfilter
