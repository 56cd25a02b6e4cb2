#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/routes/ip_prefix.h"

namespace ng::probes::routes {

// How traffic to a peer's pods is expected to travel (Calico's IP pool ipipMode / vxlanMode).
enum class Encapsulation {
  kUnknown,           // learned from BIRD only: any correct shape is accepted
  kNone,              // plain BGP routes: via <peer> dev <uplink>
  kIpip,              // always: via <peer> dev tunl0 onlink
  kVxlan,             // always: via <peer VTEP> dev vxlan.calico onlink
  kIpipCrossSubnet,   // direct within the node's subnet, IPIP across subnets
  kVxlanCrossSubnet,  // direct within the node's subnet, VXLAN across subnets
};
std::string_view to_string(Encapsulation e);
// Accepts the config spellings: none, ipip, vxlan, ipip-crosssubnet, vxlan-crosssubnet, unknown.
std::optional<Encapsulation> parse_encapsulation(std::string_view s);

// Where the node learned that a peer exists.
enum class PeerSource { kBird, kConfig, kController };
std::string_view to_string(PeerSource s);

// A peer node the node should reach, with the pod blocks it owns.
struct Peer {
  std::string name;  // for reports; the node IP when nothing better is known
  IpAddress node_ip;
  std::vector<IpPrefix> blocks;
  std::optional<IpAddress> tunnel_address;  // VXLAN VTEP (or IPIP tunnel) address
  Encapsulation encapsulation = Encapsulation::kUnknown;
  std::vector<PeerSource> sources;
};

}  // namespace ng::probes::routes
