#include "agent/firewalld_node_facts.h"

#include <algorithm>
#include <map>

#include "probes/bgp/bgp_monitor.h"
#include "probes/routes/route_checker.h"

namespace ng::agent {

namespace {

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

bool tunnel(const probes::routes::Link* l) {
  return l && (l->kind == "vxlan" || l->kind == "ipip" || l->name == "tunl0");
}

}  // namespace

netfilter::firewalld::NodeFacts firewalld_node_facts(const probes::routes::RouteChecker* routes,
                                                     const probes::bgp::BgpMonitor* bgp) {
  namespace r = probes::routes;
  netfilter::firewalld::NodeFacts f;
  if (routes && routes->synced()) {
    const r::RouteTable& t = routes->table();
    std::map<int, bool> global;
    for (const auto& a : t.addresses()) {
      if (!a.local.is_loopback() && !a.local.is_link_local()) global[a.ifindex] = true;
    }
    for (const auto& [index, link] : t.links()) {
      f.interfaces.push_back({link.name, link.kind, global.count(index) > 0});
    }
    // Pod blocks: Calico's own blocks are blackholed, peers' blocks routed, both by BIRD or Felix.
    for (const auto& [key, route] : t.routes()) {
      if (route.table != r::kMainTable || route.dst.is_host()) continue;
      if (route.protocol != r::kProtoBird && route.protocol != r::kProtoFelix) continue;
      add_unique(f.pod_cidrs, route.dst.to_string());
      if (route.drops()) continue;
      for (const auto& nh : route.nexthops) {
        const r::Link* l = t.link(nh.ifindex);
        if (nh.gateway && !tunnel(l)) f.pod_traffic_on_uplink = true;
        if (l && (l->kind == "vxlan")) f.vxlan_peers = true;
        if (l && (l->kind == "ipip" || l->name == "tunl0")) f.ipip_peers = true;
      }
    }
    for (const auto& p : routes->peers()) {
      add_unique(f.peer_nodes, p.node_ip.to_string());
      for (const auto& b : p.blocks) add_unique(f.pod_cidrs, b.to_string());
      switch (p.encapsulation) {
        case r::Encapsulation::kVxlan:
          f.vxlan_peers = true;
          break;
        case r::Encapsulation::kIpip:
          f.ipip_peers = true;
          break;
        case r::Encapsulation::kVxlanCrossSubnet:
          f.vxlan_peers = f.pod_traffic_on_uplink = true;
          break;
        case r::Encapsulation::kIpipCrossSubnet:
          f.ipip_peers = f.pod_traffic_on_uplink = true;
          break;
        case r::Encapsulation::kNone:
          f.pod_traffic_on_uplink = true;
          break;
        case r::Encapsulation::kUnknown:
          break;
      }
    }
  }
  if (bgp) {
    for (const auto& s : bgp->sessions()) {
      if (!s.protocol.is_bgp()) continue;
      f.bgp_sessions = true;
      if (s.protocol.neighbor_address)
        add_unique(f.bgp_peers, s.protocol.neighbor_address->to_string());
    }
  }
  return f;
}

}  // namespace ng::agent
