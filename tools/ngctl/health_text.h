#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "nodeguard/v1/agent.pb.h"

namespace ng::ngctl {

// How long ago `then` was, seen from `now`: "42s", "5m", "3h10m"; "-" when unset.
std::string age(const google::protobuf::Timestamp& then, const google::protobuf::Timestamp& now);

// The conditions that are True and matter (warning or error), and components not running
// well, short: "PodRouteViaGateway, BGPPeerDown, component bgp degraded".
std::vector<std::string> failing_items(const nodeguard::v1::GetHealthResponse& health);

// "DriftRepaired 5m ago" or "-".
std::string last_repair_text(const nodeguard::v1::GetHealthResponse& health);

// One event as a line: "  12  09:41:07  warning  bgp  BGPPeerDown  session ... [peer=...]".
std::string event_line(const nodeguard::v1::Event& event);

// `ngctl status` for people.
void print_health(const nodeguard::v1::GetHealthResponse& health, std::ostream& out);

}  // namespace ng::ngctl
