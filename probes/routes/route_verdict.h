#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "core/health_sink.h"
#include "probes/routes/ip_prefix.h"
#include "probes/routes/peer.h"

namespace ng::probes::routes {

// What the classifier concluded about one pod block. The names are stable: they are metric
// labels (nodeguard_route_verdicts{kind}) and condition types.
enum class VerdictKind {
  kHealthy,
  kPodRouteViaGateway,              // the seed: another subnet, no encapsulation, via the gateway
  kPodRouteMissing,                 // no route for the block
  kPodRouteBlackhole,               // blackhole/unreachable for a block another node owns
  kPodRouteDuplicate,               // two routes (or next hops) for one block
  kPodRouteLinkDown,                // next hop on a missing or down device
  kPodRouteWrongNextHop,            // via an address that is not the peer (nor its VTEP)
  kPodRouteNotEncapsulated,         // the pool expects IPIP/VXLAN, the route is plain
  kPodRouteEncapsulationMismatch,   // tunnelled, but not the way the pool says
  kPodRouteEncapsulatedSameSubnet,  // CrossSubnet tunnels a same-subnet peer (the /32 symptom)
  kPodRouteNotOnlink,               // tunnel route without onlink
  kOwnBlockNotBlackholed,           // own block without its blackhole route
  kNodeAddressHostPrefix,           // node registered as /32: CrossSubnet tunnels everything
};
inline constexpr int kVerdictKindCount = 13;
std::string_view to_string(VerdictKind k);
std::optional<VerdictKind> parse_verdict_kind(std::string_view s);
const std::array<VerdictKind, kVerdictKindCount>& all_verdict_kinds();
// Error: pods cannot talk. Warning: works, but not as designed, or will break on change.
core::Severity severity_of(VerdictKind k);

struct RouteVerdict {
  VerdictKind kind = VerdictKind::kHealthy;
  std::string peer;  // peer name; empty for this node's own blocks and address
  std::optional<IpAddress> peer_ip;
  IpPrefix block;  // the pod block (own address for kNodeAddressHostPrefix)
  Encapsulation encapsulation = Encapsulation::kUnknown;
  bool same_subnet = false;
  std::string route;   // the route(s) found, as `ip route` prints them; empty when missing
  std::string reason;  // what is right or wrong, in words
  std::string fix;     // what to do; empty when healthy
};

}  // namespace ng::probes::routes
