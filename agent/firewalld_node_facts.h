#pragma once

#include "netfilter/firewalld/node_needs.h"

namespace ng::probes::routes {
class RouteChecker;
}
namespace ng::probes::bgp {
class BgpMonitor;
}

namespace ng::agent {

// What the routes view and the BGP monitor know about the node, for the firewalld conflict
// rules: interfaces (name, kind, global address), pod blocks (own blackholes and peers'), how
// peers are reached (VXLAN, IPIP, or unencapsulated on the uplink), and BGP sessions with their
// neighbours. Either component may be null or not synced yet; the facts are then partial.
netfilter::firewalld::NodeFacts firewalld_node_facts(const probes::routes::RouteChecker* routes,
                                                     const probes::bgp::BgpMonitor* bgp);

}  // namespace ng::agent
