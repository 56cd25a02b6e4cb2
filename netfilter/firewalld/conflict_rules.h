#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/health_sink.h"
#include "netfilter/firewalld/firewalld_policy.h"

namespace ng::netfilter::firewalld {

// The things firewalld can break for a Kubernetes node; one condition type and one metric label
// each. Names are stable (metric labels, condition types, config `firewalld.ignore_checks`).
enum class Check {
  kNodePorts,      // node_ports     FirewalldBlocksNodePorts
  kHostPort,       // host_port      FirewalldBlocksHostPort
  kKubelet,        // kubelet        FirewalldBlocksKubelet
  kBgp,            // bgp            FirewalldBlocksBGP
  kVxlan,          // vxlan          FirewalldBlocksVXLAN
  kIpip,           // ipip           FirewalldBlocksIPIP
  kCniInterface,   // cni_interface  FirewalldCNIInterfaceNotTrusted
  kPodForwarding,  // pod_forwarding FirewalldBlocksPodForwarding
  kPanicMode,      // panic_mode     FirewalldPanicMode
  kPolicyDrop,     // policy_drop    IptablesPolicyDrop (judged with or without firewalld)
};
std::string_view check_name(Check c);
std::string_view condition_type(Check c);
std::optional<Check> parse_check(std::string_view name);
const std::vector<Check>& all_checks();

// A built-in iptables chain at policy DROP in a guarded table.
struct PolicyDrop {
  std::string where;    // "nft/ipv4/filter FORWARD"
  std::string command;  // "iptables-nft -t filter -P FORWARD ACCEPT"
  // ACCEPT when the guard first read it; reported, not repaired: netfilter.restore_policies is
  // off (the guard's NetfilterPolicyDrop says so too).
  bool flipped = false;
};

struct NodeInterface {
  std::string name;
  std::string kind;  // "vxlan", "ipip", "bridge", ... ("" unknown)
  bool has_global_address = false;
};

// What the node needs from firewalld; assembled by assemble_needs() (node_needs.h) from config,
// the guard's chains and what the other components know. Every list empty = nothing to judge.
struct NodeNeeds {
  std::optional<PortSpec> node_ports;  // the range; judged for tcp and udp
  bool ipvs = false;                   // kube-proxy IPVS answers NodePorts in INPUT
  std::vector<PortSpec> host_ports;    // single ports from the guarded CNI DNAT chains
  int kubelet_port = 0;                // 0: not judged
  bool bgp = false;                    // BGP sessions configured on this node
  int bgp_port = 179;
  std::vector<std::string> bgp_peers;  // neighbour addresses (for source-bound zones)
  bool vxlan = false;
  int vxlan_port = 4789;
  bool ipip = false;
  std::vector<std::string> overlay_peers;  // other nodes' addresses, when known
  std::vector<std::string> cni_patterns;   // firewalld.cni_interfaces
  std::vector<NodeInterface> interfaces;   // on the node; empty: unknown
  std::vector<std::string> pod_cidrs;
  std::string pod_cidrs_from;            // config | routes | cni chains | "" (unknown)
  bool pod_traffic_on_uplink = false;    // pod routes to peers without encapsulation
  std::vector<PolicyDrop> policy_drops;  // from the guard's view
  std::set<Check> ignored;
};

struct Finding {
  Check check = Check::kNodePorts;
  core::Severity severity = core::Severity::kWarning;
  std::vector<std::string> items;     // "8080/tcp in zone public", bounded labels never
  std::vector<std::string> remedies;  // shell commands, one per zone or pattern
  std::string message;                // what, why it matters, the remedy
};

struct ConflictReport {
  std::vector<Finding> findings;
  std::vector<std::string> skipped;  // checks not judged and why ("bgp: no BGP sessions")
  std::vector<std::string> uplink_zones;
  const Finding* find(Check c) const;
};

// The conflict rules: a pure function of what firewalld said and what the node needs. Rules
// (docs/architecture.md "firewalld"):
//  * Traffic from anywhere (NodePorts, hostPorts, kubelet) enters through the zones of the
//    node's uplinks (interfaces with a global address that are not CNI, tunnel or kube-ipvs0
//    devices; the default zone when none is known). Traffic from other nodes (BGP, VXLAN, IPIP)
//    uses the zone a source binding gives the peer's address, else the uplink zones.
//  * A port is open in a zone when the zone's target is ACCEPT, or its ports or services (with
//    their includes) cover it. IPIP needs protocol 4 ("4" or "ipencap"; "ipip" is protocol 94).
//    Rich rules and policies are not evaluated (a finding says so when the zone has rich rules).
//  * Pods: traffic from a CNI interface is judged in the zone its pod CIDR is bound to as a
//    source, else the interface's zone; that zone must accept everything (target ACCEPT, like
//    the trusted zone). Pod traffic that arrives unencapsulated on the uplink needs the pod
//    CIDRs bound to an accepting zone too.
//  * Panic mode drops everything. Built-in iptables chains left at DROP come from the guard.
ConflictReport judge(const FirewalldPolicy& policy, const NodeNeeds& needs);
// Without firewalld (absent, stopped in the middle of a reload, bus unreachable) only the
// built-in iptables policies are judged.
ConflictReport judge_policy_drops(const NodeNeeds& needs);

}  // namespace ng::netfilter::firewalld
