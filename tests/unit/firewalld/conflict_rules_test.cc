#include "netfilter/firewalld/conflict_rules.h"

#include <gmock/gmock.h>

#include "tests/unit/firewalld/recorded_answers.h"

namespace ng::netfilter::firewalld {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using testing::FakeBus;
using ::testing::HasSubstr;

// The policy the real firewalld described in a recorded scenario.
FirewalldPolicy policy_of(const std::string& scenario) {
  FakeBus bus;
  testing::load_scenario(bus, scenario);
  EXPECT_TRUE(bus.connect([](std::string) {}).ok());
  std::optional<PolicyQueryResult> out;
  query_policy(bus, std::chrono::milliseconds(5000),
               [&](PolicyQueryResult r) { out = std::move(r); });
  bus.deliver();
  if (!out || !out->policy.ok()) {
    ADD_FAILURE() << "no policy from " << scenario;
    return {};
  }
  return std::move(*out->policy);
}

// A Calico node with everything: BGP to a peer in the node's subnet, IPIP and VXLAN devices, a
// hostPort, pods on cali* interfaces.
NodeNeeds calico_node() {
  NodeNeeds n;
  n.node_ports = parse_port_spec("30000-32767", "tcp");
  n.host_ports = {*parse_port_spec("8080", "tcp")};
  n.kubelet_port = 10250;
  n.bgp = true;
  n.bgp_peers = {"192.168.50.2"};
  n.overlay_peers = {"192.168.50.2"};
  n.vxlan = true;
  n.ipip = true;
  n.cni_patterns = {"cni0", "cali+", "flannel.1", "vxlan.calico", "tunl0"};
  n.interfaces = {
      {"lo", "", false},       {"eth0", "veth", true},          {"cali1a2b3c", "veth", false},
      {"tunl0", "ipip", true}, {"vxlan.calico", "vxlan", true}, {"cni0", "bridge", true}};
  n.pod_cidrs = {"10.244.0.0/16"};
  n.pod_cidrs_from = "config firewalld.pod_cidrs";
  n.pod_traffic_on_uplink = true;
  return n;
}

std::vector<std::string> checks(const ConflictReport& r) {
  std::vector<std::string> out;
  for (const auto& f : r.findings) out.emplace_back(check_name(f.check));
  return out;
}

TEST(ConflictRules, StockFirewalldBlocksEverythingTheNodeNeeds) {
  const auto r = judge(policy_of("stock"), calico_node());
  EXPECT_THAT(checks(r), ElementsAre("node_ports", "host_port", "kubelet", "bgp", "vxlan", "ipip",
                                     "cni_interface", "pod_forwarding"));
  EXPECT_THAT(r.uplink_zones, ElementsAre("public"));  // eth0 unbound: the default zone
  const Finding* bgp = r.find(Check::kBgp);
  ASSERT_TRUE(bgp);
  EXPECT_EQ(bgp->severity, core::Severity::kWarning);
  EXPECT_THAT(bgp->items, ElementsAre("179/tcp in zone public"));
  EXPECT_THAT(bgp->message,
              HasSubstr("firewall-cmd --permanent --zone=public --add-port=179/tcp && "
                        "firewall-cmd --reload"));
  const Finding* np = r.find(Check::kNodePorts);
  EXPECT_THAT(np->items,
              ElementsAre("30000-32767/tcp in zone public", "30000-32767/udp in zone public"));
  EXPECT_EQ(np->severity, core::Severity::kInfo);  // kube-proxy DNATs before firewalld
  EXPECT_THAT(np->remedies, ElementsAre("firewall-cmd --permanent --zone=public "
                                        "--add-port=30000-32767/tcp --add-port=30000-32767/udp && "
                                        "firewall-cmd --reload"));
  EXPECT_EQ(r.find(Check::kHostPort)->severity, core::Severity::kInfo);
  EXPECT_THAT(r.find(Check::kVxlan)->items, ElementsAre("4789/udp in zone public"));
  EXPECT_THAT(r.find(Check::kIpip)->remedies,
              ElementsAre("firewall-cmd --permanent --zone=public --add-protocol=4 && "
                          "firewall-cmd --reload"));
  const Finding* cni = r.find(Check::kCniInterface);
  EXPECT_THAT(cni->items, ElementsAre("cali1a2b3c in zone public (target default)",
                                      "tunl0 in zone public (target default)",
                                      "vxlan.calico in zone public (target default)",
                                      "cni0 in zone public (target default)"));
  EXPECT_THAT(cni->remedies,
              Contains("firewall-cmd --permanent --zone=trusted --add-interface=cali+ && "
                       "firewall-cmd --reload"));
  EXPECT_THAT(r.find(Check::kPodForwarding)->remedies,
              ElementsAre("firewall-cmd --permanent --zone=trusted --add-source=10.244.0.0/16 && "
                          "firewall-cmd --reload"));
}

TEST(ConflictRules, AKubernetesReadyFirewalldHasNoConflicts) {
  auto needs = calico_node();
  const auto r = judge(policy_of("k8s_ready"), needs);
  EXPECT_TRUE(r.findings.empty()) << r.findings.front().message;
  // Another hostPort than the one opened there is found, though.
  needs.host_ports.push_back(*parse_port_spec("9443", "tcp"));
  const auto r2 = judge(policy_of("k8s_ready"), needs);
  ASSERT_THAT(checks(r2), ElementsAre("host_port"));
  EXPECT_THAT(r2.findings[0].items, ElementsAre("9443/tcp in zone public"));
}

TEST(ConflictRules, PartialPolicy) {
  const auto p = policy_of("partial");
  auto needs = calico_node();
  const auto r = judge(p, needs);
  // NodePorts: part of tcp open, udp not at all.
  EXPECT_THAT(r.find(Check::kNodePorts)->items,
              ElementsAre("31001-32767/tcp in zone public", "30000-32767/udp in zone public"));
  // kubelet is only allowed by a rich rule: found, and the message says rich rules were not read.
  EXPECT_THAT(r.find(Check::kKubelet)->message, HasSubstr("rich rules"));
  // The BGP peer's address is bound to the internal zone, which opens 179/tcp.
  EXPECT_FALSE(r.find(Check::kBgp));
  // internal allows protocol "ipip", which is protocol 94: IPIP (4) is still dropped there.
  const Finding* ipip = r.find(Check::kIpip);
  ASSERT_TRUE(ipip);
  EXPECT_THAT(ipip->items, ElementsAre("protocol 4 in zone internal"));
  EXPECT_THAT(ipip->message, HasSubstr("protocol 94"));
  // The pod CIDR is bound to the work zone: pod traffic is judged there, not per interface.
  EXPECT_FALSE(r.find(Check::kCniInterface));
  const Finding* pods = r.find(Check::kPodForwarding);
  ASSERT_TRUE(pods);
  EXPECT_THAT(pods->items, ElementsAre("10.244.0.0/16 bound to zone work (target default)"));
  EXPECT_THAT(pods->remedies,
              ElementsAre("firewall-cmd --permanent --zone=work --remove-source=10.244.0.0/16 && "
                          "firewall-cmd --permanent --zone=trusted --add-source=10.244.0.0/16 && "
                          "firewall-cmd --reload"));

  // A BGP peer outside the internal zone's sources lands in public, where 179 is closed.
  needs.bgp_peers = {"192.168.50.2", "10.9.9.9"};
  EXPECT_THAT(judge(p, needs).find(Check::kBgp)->items, ElementsAre("179/tcp in zone public"));
  // Without the pod CIDR binding, cali+ in internal (not accepting) is found.
  needs.pod_cidrs = {"10.45.0.0/16"};
  const auto r3 = judge(p, needs);
  const Finding* cni = r3.find(Check::kCniInterface);
  ASSERT_TRUE(cni);
  EXPECT_THAT(cni->items, Contains("cali1a2b3c in zone internal (target default)"));
  EXPECT_THAT(cni->remedies,
              Contains("firewall-cmd --permanent --zone=internal --remove-interface=cali+ && "
                       "firewall-cmd --permanent --zone=trusted --add-interface=cali+ && "
                       "firewall-cmd --reload"));
}

TEST(ConflictRules, ServicesAndTheirIncludesOpenPorts) {
  const auto r = judge(policy_of("services"), calico_node());
  EXPECT_FALSE(r.find(Check::kKubelet));  // kube-worker includes kubelet
  EXPECT_FALSE(r.find(Check::kBgp));      // the bgp service
  // kube-nodeport-services opens tcp only.
  EXPECT_THAT(r.find(Check::kNodePorts)->items, ElementsAre("30000-32767/udp in zone public"));
}

TEST(ConflictRules, PanicModeIsAnError) {
  const auto r = judge(policy_of("panic"), NodeNeeds{});
  const Finding* f = r.find(Check::kPanicMode);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->severity, core::Severity::kError);
  EXPECT_THAT(f->message, HasSubstr("firewall-cmd --panic-off"));
  EXPECT_EQ(condition_type(Check::kPanicMode), "FirewalldPanicMode");
}

TEST(ConflictRules, OnlyWhatTheNodeNeedsIsJudged) {
  NodeNeeds n;  // no BGP, no tunnels, no hostPorts, no CNI interfaces, no pod CIDRs
  n.interfaces = {{"eth0", "", true}};
  n.cni_patterns = {"cali+"};
  const auto r = judge(policy_of("stock"), n);
  EXPECT_TRUE(r.findings.empty());
  EXPECT_THAT(r.skipped, Contains("bgp: no BGP sessions configured on this node"));
  EXPECT_THAT(r.skipped, Contains("vxlan: no VXLAN device or VXLAN peers"));
  EXPECT_THAT(r.skipped, Contains("host_port: no hostPorts in the CNI chains"));
  EXPECT_THAT(r.skipped, Contains("node_ports: node_port_range is empty"));
  EXPECT_THAT(r.skipped, Contains("pod_forwarding: pod CIDRs unknown"));
}

TEST(ConflictRules, IgnoredChecksAreNotJudged) {
  auto n = calico_node();
  n.ignored = {Check::kNodePorts, Check::kHostPort, Check::kCniInterface};
  const auto r = judge(policy_of("stock"), n);
  EXPECT_FALSE(r.find(Check::kNodePorts));
  EXPECT_FALSE(r.find(Check::kHostPort));
  EXPECT_FALSE(r.find(Check::kCniInterface));
  EXPECT_TRUE(r.find(Check::kBgp));
  EXPECT_THAT(r.skipped, Contains("node_ports: ignored by config"));
}

TEST(ConflictRules, IpvsMakesNodePortsAWarning) {
  auto n = calico_node();
  n.ipvs = true;
  n.interfaces.push_back({"kube-ipvs0", "dummy", true});
  const auto r = judge(policy_of("stock"), n);
  EXPECT_EQ(r.find(Check::kNodePorts)->severity, core::Severity::kWarning);
  EXPECT_THAT(r.find(Check::kNodePorts)->message, HasSubstr("IPVS"));
  EXPECT_THAT(r.uplink_zones, ElementsAre("public"));  // kube-ipvs0 is no uplink
}

TEST(ConflictRules, UplinkZonesComeFromTheUplinkBindings) {
  FirewalldPolicy p = policy_of("k8s_ready");
  auto n = calico_node();
  // eth0 is bound to public (ports open); a second uplink in the default zone's place.
  p.default_zone = "block";
  ZoneSettings block;
  block.name = "block";
  block.target = "%%REJECT%%";
  p.zones["block"] = block;
  n.interfaces.push_back({"eth1", "", true});
  const auto r = judge(p, n);
  EXPECT_THAT(r.uplink_zones, ElementsAre("public", "block"));
  EXPECT_THAT(r.find(Check::kKubelet)->items, ElementsAre("10250/tcp in zone block"));
  // With no interface known at all, the default zone is what applies.
  n.interfaces.clear();
  EXPECT_THAT(judge(p, n).uplink_zones, ElementsAre("block"));
}

TEST(ConflictRules, PolicyDropsFromTheGuardAreFindingsWithTheCommand) {
  NodeNeeds n;
  n.policy_drops = {{"nft/ipv4/filter FORWARD", "iptables-nft -t filter -P FORWARD ACCEPT", true},
                    {"legacy/ipv6/filter INPUT", "ip6tables-legacy -t filter -P INPUT ACCEPT"}};
  const auto r = judge(policy_of("k8s_ready"), n);
  const Finding* f = r.find(Check::kPolicyDrop);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->severity, core::Severity::kWarning);
  EXPECT_THAT(f->items, ElementsAre("nft/ipv4/filter FORWARD", "legacy/ipv6/filter INPUT"));
  EXPECT_THAT(f->remedies, ElementsAre("iptables-nft -t filter -P FORWARD ACCEPT",
                                       "ip6tables-legacy -t filter -P INPUT ACCEPT"));
  EXPECT_THAT(f->message, HasSubstr("netfilter.restore_policies: true"));
  EXPECT_THAT(f->message, HasSubstr("At DROP since nodeguard first read them"));
  EXPECT_EQ(condition_type(Check::kPolicyDrop), "IptablesPolicyDrop");
  // Without firewalld only this check is judged; ignore_checks still applies.
  const auto alone = judge_policy_drops(n);
  ASSERT_EQ(alone.findings.size(), 1u);
  EXPECT_EQ(alone.findings[0].check, Check::kPolicyDrop);
  n.ignored.insert(Check::kPolicyDrop);
  EXPECT_TRUE(judge_policy_drops(n).findings.empty());
  EXPECT_THAT(judge_policy_drops(n).skipped, ElementsAre("policy_drop: ignored by config"));
  EXPECT_TRUE(judge_policy_drops(NodeNeeds{}).findings.empty());
}

TEST(ConflictRules, CheckNamesRoundTrip) {
  for (Check c : all_checks()) EXPECT_EQ(parse_check(check_name(c)), c);
  EXPECT_FALSE(parse_check("nodeports"));
}

}  // namespace
}  // namespace ng::netfilter::firewalld
