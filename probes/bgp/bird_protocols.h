#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/bgp/bird_reply.h"
#include "probes/routes/ip_prefix.h"

namespace ng::probes::bgp {

// One row of `show protocols` (and its detail block from `show protocols all`).
struct BirdProtocol {
  std::string name;   // "Mesh_192_168_1_11"
  std::string proto;  // "BGP", "Kernel", "Static", ...
  std::string table;  // "master" (1.6), "master4" or "---" (2.x)
  std::string state;  // up, start, down, stop, flush
  std::string since;  // as BIRD prints it: "09:16:24.413", "2016-11-21 12:34:56"
  std::string info;   // "Established", "Active        Socket: Connection refused"
  // From the detail block (show protocols all), or from `info` when there is none.
  std::string bgp_state;  // Idle, Connect, Active, OpenSent, OpenConfirm, Established, Close
  std::string last_error;
  std::optional<routes::IpAddress> neighbor_address;
  std::string neighbor_as;
  std::string local_as;

  bool is_bgp() const { return proto == "BGP"; }
  bool established() const { return bgp_state == "Established"; }
};

struct ProtocolsResult {
  std::vector<BirdProtocol> protocols;
  size_t skipped = 0;  // rows or lines that did not parse (garbage), counted and skipped
};

// `show protocols` or `show protocols all`, BIRD 1.6 or 2.x. Never throws.
ProtocolsResult parse_protocols(const BirdReply& reply);

// Calico's BGP protocol names, decoded as calicoctl does: Mesh_ (node-to-node mesh), Node_
// (node specific peer), Global_ (global peer), then the peer IP with '_' for '.' (IPv4) or ':'
// (IPv6), optionally followed by "_port_<n>".
struct CalicoPeerName {
  std::string type;  // "node-to-node mesh", "node specific", "global"
  routes::IpAddress ip;
};
std::optional<CalicoPeerName> decode_peer_name(std::string_view name);

}  // namespace ng::probes::bgp
