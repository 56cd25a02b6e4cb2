#pragma once

#include <optional>
#include <string>
#include <vector>

#include "probes/bgp/bird_reply.h"
#include "probes/routes/ip_prefix.h"

namespace ng::probes::bgp {

// One route from `show route [all]` (BIRD 1.6 or 2.x).
struct BirdRoute {
  routes::IpPrefix prefix;
  std::string protocol;                   // the protocol that announced it: "Mesh_192_168_2_10"
  bool primary = false;                   // '*': the route BIRD selected
  std::optional<routes::IpAddress> from;  // "from <ip>" (multihop or route-reflected)
  std::optional<routes::IpAddress> via;   // resolved gateway
  std::string iface;
  std::string kind;  // unicast, blackhole, unreachable, ... ("unicast" when BIRD 1.6 prints via)
  std::optional<routes::IpAddress> bgp_next_hop;  // BGP.next_hop attribute (with `all`)
};

struct RoutesResult {
  std::vector<BirdRoute> routes;
  size_t skipped = 0;
};

RoutesResult parse_routes(const BirdReply& reply);

}  // namespace ng::probes::bgp
