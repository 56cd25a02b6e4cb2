#pragma once

#include <string>
#include <vector>

#include "netfilter/firewalld/conflict_rules.h"
#include "netfilter/firewalld/firewalld_config.h"
#include "netfilter/guard.h"

namespace ng::netfilter::firewalld {

// What the other components know about the node (routes view, BGP monitor), handed to the
// watcher by a provider set in agent/components.cc. Plain data; every field may be empty.
struct NodeFacts {
  std::vector<NodeInterface> interfaces;  // empty: unknown (system_interfaces() is used)
  std::vector<std::string> pod_cidrs;     // own and peers' pod blocks from the routes view
  bool bgp_sessions = false;              // BIRD reports at least one BGP protocol
  std::vector<std::string> bgp_peers;     // their neighbour addresses
  std::vector<std::string> peer_nodes;    // other nodes' addresses (routes peers)
  bool vxlan_peers = false;               // a peer is reached through VXLAN
  bool ipip_peers = false;                // a peer is reached through IPIP
  bool pod_traffic_on_uplink = false;     // a pod route to a peer uses no tunnel
};

// The node's interfaces from getifaddrs(): names and whether they carry a global address (kind
// unknown). The fallback when the routes view is off.
std::vector<NodeInterface> system_interfaces();

// hostPorts (`--dport`/`--dports` with `-p`) of the portmap chains (CNI-HOSTPORT-DNAT, CNI-DN-*)
// in the guard's nat snapshots, every backend and family, without duplicates.
std::vector<PortSpec> host_ports_from(const GuardView& view);
// Pod subnets from the bridge plugin's per-container nat chains (`-d <subnet> ... -j ACCEPT` in
// a CNI-<hash> chain), without duplicates and without multicast.
std::vector<std::string> pod_cidrs_from(const GuardView& view);
// Every built-in chain at DROP in the guard's tables: flipped from ACCEPT (the guard's reports,
// not repaired because netfilter.restore_policies is off) or at DROP in its snapshot (so since
// its first read), without duplicates, with the command that restores ACCEPT.
std::vector<PolicyDrop> policy_drops_from(const GuardView& view);

// Puts it together. Relevance rules (what is judged when):
//  * node_ports: firewalld.node_port_range is set (tcp and udp); warning only with kube-proxy in
//    IPVS mode (a kube-ipvs0 interface), info otherwise.
//  * host_port: every hostPort in the guarded CNI chains.
//  * kubelet: firewalld.kubelet_port is not 0.
//  * bgp: BIRD reports BGP sessions (bgp component on and a socket answering).
//  * vxlan: a VXLAN device (kind vxlan, or a CNI interface named vxlan* / flannel.*) or a VXLAN
//    peer; ipip: an IPIP device (kind ipip or tunl0) or an IPIP peer.
//  * cni_interface: CNI interfaces (firewalld.cni_interfaces) that exist on the node.
//  * pod_forwarding: pod CIDRs known (firewalld.pod_cidrs, else the routes view, else the CNI
//    chains).
NodeNeeds assemble_needs(const FirewalldConfig& config, const NodeFacts& facts,
                         const GuardView& view);

}  // namespace ng::netfilter::firewalld
