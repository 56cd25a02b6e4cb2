#include "netfilter/firewalld/node_needs.h"

#include <gmock/gmock.h>

#include "netfilter/save_codec.h"
#include "tests/unit/netfilter/test_data.h"

namespace ng::netfilter::firewalld {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> strs(const std::vector<PortSpec>& v) {
  std::vector<std::string> out;
  for (const auto& p : v) out.push_back(p.str());
  return out;
}

TableView nat_view_of(const std::string& save_text, BackendKind b = BackendKind::kNft,
                      Family f = Family::kIPv4) {
  auto file = parse_save(save_text);
  EXPECT_TRUE(file.ok());
  TableView t;
  t.key = TableKey{b, f, "nat"};
  t.snapshot = std::make_shared<Table>(*file->find("nat"));
  return t;
}

// The guard's view of a node where the real bridge + portmap plugins made a pod with hostPort
// 8080 (tests/unit/netfilter/data).
GuardView real_cni_view() {
  GuardView v;
  v.tables.push_back(nat_view_of(testing::netfilter_data("cni-nft-ipv4.save")));
  v.tables.push_back(nat_view_of(testing::netfilter_data("cni-legacy-ipv6.save"),
                                 BackendKind::kLegacy, Family::kIPv6));
  return v;
}

TEST(NodeNeeds, HostPortsFromTheRealPortmapChains) {
  // 8080 in the IPv4 dump, 8443 in the IPv6 one.
  EXPECT_THAT(strs(host_ports_from(real_cni_view())), ElementsAre("8080/tcp", "8443/tcp"));
}

TEST(NodeNeeds, HostPortsOfOtherShapes) {
  GuardView v;
  v.tables.push_back(nat_view_of(R"(*nat
:PREROUTING ACCEPT [0:0]
:CNI-HOSTPORT-DNAT - [0:0]
:CNI-DN-aaaa - [0:0]
:CNI-DN-bbbb - [0:0]
:KUBE-NODEPORTS - [0:0]
-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \"n\" id: \"a\"" -m multiport --dports 80,443 -j CNI-DN-aaaa
-A CNI-HOSTPORT-DNAT -p udp -m comment --comment "dnat name: \"n\" id: \"b\"" -m multiport --dports 5353 -j CNI-DN-bbbb
-A CNI-DN-aaaa -d 192.168.1.5/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.1.0.4:8080
-A CNI-DN-aaaa -p sctp -m sctp --dport 9000 -j DNAT --to-destination 10.1.0.4:9000
-A CNI-DN-bbbb -p udp -m udp --dport 5353 -j DNAT --to-destination 10.1.0.5:53
-A CNI-DN-bbbb -p tcp -m tcp ! --dport 7 -j DNAT --to-destination 10.1.0.5:53
-A KUBE-NODEPORTS -p tcp -m tcp --dport 31000 -j ACCEPT
COMMIT
)"));
  EXPECT_THAT(strs(host_ports_from(v)), ElementsAre("80/tcp", "443/tcp", "5353/udp", "9000/sctp"));
}

TEST(NodeNeeds, PodCidrsFromTheBridgeChains) {
  EXPECT_THAT(pod_cidrs_from(real_cni_view()), ElementsAre("10.244.1.0/24", "fd00:10:244:1::/64"));
}

TEST(NodeNeeds, PolicyDropsFromTheGuardsReportsAndSnapshots) {
  GuardView v;
  TableView t;
  t.key = TableKey{BackendKind::kLegacy, Family::kIPv4, "filter"};
  t.reports.push_back(
      DriftFinding{DriftKind::kPolicyChanged, "FORWARD", "", "policy ACCEPT -> DROP"});
  // The snapshot keeps ACCEPT for a flipped chain; INPUT was at DROP from the first read.
  auto snap = std::make_shared<Table>();
  snap->name = "filter";
  snap->chains = {Chain{"INPUT", "DROP", "[0:0]", {}}, Chain{"FORWARD", "ACCEPT", "[0:0]", {}},
                  Chain{"OUTPUT", "ACCEPT", "[0:0]", {}}, Chain{"CNI-FORWARD", "-", "", {}}};
  t.snapshot = snap;
  v.tables.push_back(t);
  TableView t6;
  t6.key = TableKey{BackendKind::kNft, Family::kIPv6, "filter"};
  auto snap6 = std::make_shared<Table>(*snap);
  snap6->chains[1].policy = "DROP";
  t6.snapshot = snap6;
  v.tables.push_back(t6);
  const auto drops = policy_drops_from(v);
  ASSERT_EQ(drops.size(), 4u);
  EXPECT_EQ(drops[0].where, "legacy/ipv4/filter FORWARD");
  EXPECT_TRUE(drops[0].flipped);
  EXPECT_EQ(drops[0].command, "iptables-legacy -t filter -P FORWARD ACCEPT");
  EXPECT_EQ(drops[1].where, "legacy/ipv4/filter INPUT");
  EXPECT_FALSE(drops[1].flipped);
  EXPECT_EQ(drops[2].where, "nft/ipv6/filter INPUT");
  EXPECT_EQ(drops[3].command, "ip6tables-nft -t filter -P FORWARD ACCEPT");
  EXPECT_TRUE(policy_drops_from(GuardView{}).empty());
}

TEST(NodeNeeds, RelevanceFromConfigAndFacts) {
  FirewalldConfig c;
  NodeFacts f;
  f.interfaces = {{"eth0", "veth", true},
                  {"tunl0", "ipip", true},
                  {"kube-ipvs0", "dummy", true},
                  {"cali123", "veth", false}};
  f.bgp_sessions = true;
  f.bgp_peers = {"192.168.1.2"};
  f.pod_cidrs = {"10.244.3.0/26"};
  const auto n = assemble_needs(c, f, real_cni_view());
  ASSERT_TRUE(n.node_ports);
  EXPECT_EQ(n.node_ports->first, 30000);
  EXPECT_EQ(n.node_ports->last, 32767);
  EXPECT_TRUE(n.ipvs);
  EXPECT_TRUE(n.ipip);
  EXPECT_FALSE(n.vxlan);
  EXPECT_TRUE(n.bgp);
  EXPECT_EQ(n.kubelet_port, 10250);
  EXPECT_THAT(strs(n.host_ports), ElementsAre("8080/tcp", "8443/tcp"));
  // Routes' blocks first, then the CNI chains' subnets.
  EXPECT_THAT(n.pod_cidrs, ElementsAre("10.244.3.0/26", "10.244.1.0/24", "fd00:10:244:1::/64"));
  EXPECT_EQ(n.pod_cidrs_from, "learned from the routes");

  c.pod_cidrs = {"10.244.0.0/16"};
  c.node_port_range = "";
  c.kubelet_port = 0;
  c.ignore_checks = {"bgp", "nonsense"};
  f.interfaces = {{"flannel.1", "", true}};
  const auto m = assemble_needs(c, f, GuardView{});
  EXPECT_FALSE(m.node_ports);
  EXPECT_EQ(m.kubelet_port, 0);
  EXPECT_THAT(m.pod_cidrs, ElementsAre("10.244.0.0/16"));
  EXPECT_TRUE(m.vxlan);  // a CNI VXLAN device by name
  EXPECT_THAT(m.host_ports, IsEmpty());
  EXPECT_EQ(m.ignored, std::set<Check>{Check::kBgp});
}

TEST(NodeNeeds, SystemInterfacesIncludeLoopback) {
  const auto all = system_interfaces();
  bool lo = false;
  for (const auto& i : all) {
    if (i.name == "lo") {
      lo = true;
      EXPECT_FALSE(i.has_global_address);
    }
  }
  EXPECT_TRUE(lo);
}

}  // namespace
}  // namespace ng::netfilter::firewalld
