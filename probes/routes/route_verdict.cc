#include "probes/routes/route_verdict.h"

namespace ng::probes::routes {

const std::array<VerdictKind, kVerdictKindCount>& all_verdict_kinds() {
  static const std::array<VerdictKind, kVerdictKindCount> kinds = {
      VerdictKind::kHealthy,
      VerdictKind::kPodRouteViaGateway,
      VerdictKind::kPodRouteMissing,
      VerdictKind::kPodRouteBlackhole,
      VerdictKind::kPodRouteDuplicate,
      VerdictKind::kPodRouteLinkDown,
      VerdictKind::kPodRouteWrongNextHop,
      VerdictKind::kPodRouteNotEncapsulated,
      VerdictKind::kPodRouteEncapsulationMismatch,
      VerdictKind::kPodRouteEncapsulatedSameSubnet,
      VerdictKind::kPodRouteNotOnlink,
      VerdictKind::kOwnBlockNotBlackholed,
      VerdictKind::kNodeAddressHostPrefix,
  };
  return kinds;
}

std::string_view to_string(VerdictKind k) {
  switch (k) {
    case VerdictKind::kHealthy:
      return "Healthy";
    case VerdictKind::kPodRouteViaGateway:
      return "PodRouteViaGateway";
    case VerdictKind::kPodRouteMissing:
      return "PodRouteMissing";
    case VerdictKind::kPodRouteBlackhole:
      return "PodRouteBlackhole";
    case VerdictKind::kPodRouteDuplicate:
      return "PodRouteDuplicate";
    case VerdictKind::kPodRouteLinkDown:
      return "PodRouteLinkDown";
    case VerdictKind::kPodRouteWrongNextHop:
      return "PodRouteWrongNextHop";
    case VerdictKind::kPodRouteNotEncapsulated:
      return "PodRouteNotEncapsulated";
    case VerdictKind::kPodRouteEncapsulationMismatch:
      return "PodRouteEncapsulationMismatch";
    case VerdictKind::kPodRouteEncapsulatedSameSubnet:
      return "PodRouteEncapsulatedSameSubnet";
    case VerdictKind::kPodRouteNotOnlink:
      return "PodRouteNotOnlink";
    case VerdictKind::kOwnBlockNotBlackholed:
      return "OwnBlockNotBlackholed";
    case VerdictKind::kNodeAddressHostPrefix:
      return "NodeAddressHostPrefix";
  }
  return "Unknown";
}

std::optional<VerdictKind> parse_verdict_kind(std::string_view s) {
  for (auto k : all_verdict_kinds()) {
    if (to_string(k) == s) return k;
  }
  return std::nullopt;
}

core::Severity severity_of(VerdictKind k) {
  switch (k) {
    case VerdictKind::kHealthy:
      return core::Severity::kInfo;
    case VerdictKind::kPodRouteViaGateway:
    case VerdictKind::kPodRouteMissing:
    case VerdictKind::kPodRouteBlackhole:
    case VerdictKind::kPodRouteLinkDown:
    case VerdictKind::kPodRouteWrongNextHop:
    case VerdictKind::kPodRouteNotEncapsulated:
      return core::Severity::kError;
    default:
      return core::Severity::kWarning;
  }
}

}  // namespace ng::probes::routes
