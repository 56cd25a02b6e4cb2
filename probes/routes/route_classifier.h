#pragma once

#include <optional>
#include <string>
#include <vector>

#include "probes/routes/peer.h"
#include "probes/routes/route_table.h"
#include "probes/routes/route_verdict.h"

namespace ng::probes::routes {

// Facts about this node that the kernel does not hold.
struct NodeFacts {
  std::vector<IpPrefix> own_blocks;      // empty: taken from the blackhole routes
  std::optional<IpPrefix> node_address;  // as registered with the CNI (Calico's BGP address)
};

struct ClassifierOptions {
  std::uint32_t table = kMainTable;
  std::string ipip_device = "tunl0";
  std::vector<std::string> vxlan_devices = {"vxlan.calico", "vxlan-v6.calico"};
};

// The route classifier: a pure function of a route-table snapshot, the expected peers and the
// node's own facts. One verdict per peer block (IPv4 and IPv6), one per own block, plus a
// node-level verdict when the node's address is a host prefix. Verdicts are ordered: own node
// first, then peers in input order, blocks in input order.
std::vector<RouteVerdict> classify(const RouteTable& table, const std::vector<Peer>& peers,
                                   const NodeFacts& node, const ClassifierOptions& options);

}  // namespace ng::probes::routes
