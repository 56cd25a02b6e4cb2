#include "probes/routes/peer.h"

namespace ng::probes::routes {

std::string_view to_string(Encapsulation e) {
  switch (e) {
    case Encapsulation::kUnknown:
      return "unknown";
    case Encapsulation::kNone:
      return "none";
    case Encapsulation::kIpip:
      return "ipip";
    case Encapsulation::kVxlan:
      return "vxlan";
    case Encapsulation::kIpipCrossSubnet:
      return "ipip-crosssubnet";
    case Encapsulation::kVxlanCrossSubnet:
      return "vxlan-crosssubnet";
  }
  return "unknown";
}

std::optional<Encapsulation> parse_encapsulation(std::string_view s) {
  for (auto e :
       {Encapsulation::kUnknown, Encapsulation::kNone, Encapsulation::kIpip, Encapsulation::kVxlan,
        Encapsulation::kIpipCrossSubnet, Encapsulation::kVxlanCrossSubnet}) {
    if (s == to_string(e)) return e;
  }
  if (s.empty()) return Encapsulation::kUnknown;
  return std::nullopt;
}

std::string_view to_string(PeerSource s) {
  switch (s) {
    case PeerSource::kBird:
      return "bird";
    case PeerSource::kConfig:
      return "config";
    case PeerSource::kController:
      return "controller";
  }
  return "unknown";
}

}  // namespace ng::probes::routes
