#include "probes/bgp/bird_protocols.h"

#include <algorithm>
#include <cctype>

#include "probes/bgp/bird_text.h"

namespace ng::probes::bgp {
namespace {

constexpr int kRow = 1002;
constexpr int kDetail = 1006;

bool looks_like_date(std::string_view t) {
  return t.size() == 10 && t[4] == '-' && t[7] == '-' &&
         std::isdigit(static_cast<unsigned char>(t[0]));
}
bool looks_like_time(std::string_view t) {
  return t.size() >= 5 && t[2] == ':' && std::isdigit(static_cast<unsigned char>(t[0]));
}

const char* const kBgpStates[] = {"Idle",        "Connect", "Active",  "OpenSent", "OpenConfirm",
                                  "Established", "Close",   "Passive", "Down"};

bool is_bgp_state(std::string_view s) {
  return std::find(std::begin(kBgpStates), std::end(kBgpStates), s) != std::end(kBgpStates);
}

std::optional<BirdProtocol> parse_row(std::string_view text) {
  BirdProtocol p;
  std::string_view rest = text;
  p.name = next_token(rest);
  p.proto = next_token(rest);
  p.table = next_token(rest);
  p.state = next_token(rest);
  if (p.name.empty() || p.proto.empty() || p.table.empty() || p.state.empty()) return std::nullopt;
  auto since = next_token(rest);
  if (looks_like_date(since)) {
    std::string_view probe = rest;
    auto t = next_token(probe);
    if (looks_like_time(t)) {
      p.since = std::string(since) + " " + std::string(t);
      rest = probe;
    } else {
      p.since = since;
    }
  } else {
    p.since = since;
  }
  p.info = trim(rest);
  if (p.is_bgp() && !p.info.empty()) {
    std::string_view info = p.info;
    auto first = next_token(info);
    if (is_bgp_state(first)) {
      p.bgp_state = first;
      p.last_error = trim(info);
    }
  }
  return p;
}

void apply_detail(BirdProtocol& p, std::string_view line) {
  line = trim(line);
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return;
  const auto key = trim(line.substr(0, colon));
  const auto value = trim(line.substr(colon + 1));
  if (key == "BGP state") {
    p.bgp_state = value;
  } else if (key == "Neighbor address") {
    // BIRD 2 may print "fe80::1%eth0" for link-local peers.
    auto v = value.substr(0, value.find('%'));
    if (auto ip = routes::IpAddress::parse(v)) p.neighbor_address = ip;
  } else if (key == "Neighbor AS") {
    p.neighbor_as = value;
  } else if (key == "Local AS") {
    p.local_as = value;
  } else if (key == "Last error") {
    p.last_error = value;
  }
}

}  // namespace

ProtocolsResult parse_protocols(const BirdReply& reply) {
  ProtocolsResult out;
  out.skipped = reply.garbage;
  for (const auto& line : reply.lines) {
    if (line.code == kRow) {
      auto p = parse_row(line.text);
      if (!p) {
        if (!trim(line.text).empty()) ++out.skipped;
        continue;
      }
      out.protocols.push_back(std::move(*p));
    } else if (line.code == kDetail) {
      if (!out.protocols.empty()) apply_detail(out.protocols.back(), line.text);
    }
  }
  for (auto& p : out.protocols) {
    if (p.is_bgp() && !p.neighbor_address) {
      if (auto d = decode_peer_name(p.name)) p.neighbor_address = d->ip;
    }
  }
  return out;
}

std::optional<CalicoPeerName> decode_peer_name(std::string_view name) {
  CalicoPeerName out;
  std::string_view rest;
  for (auto [prefix, type] :
       {std::pair<std::string_view, const char*>{"Mesh_", "node-to-node mesh"},
        {"Node_", "node specific"},
        {"Global_", "global"}}) {
    if (name.substr(0, prefix.size()) == prefix) {
      out.type = type;
      rest = name.substr(prefix.size());
      break;
    }
  }
  if (out.type.empty() || rest.empty()) return std::nullopt;
  if (auto port = rest.find("_port_"); port != std::string_view::npos) rest = rest.substr(0, port);
  std::string v4(rest);
  std::replace(v4.begin(), v4.end(), '_', '.');
  if (std::count(v4.begin(), v4.end(), '.') == 3) {
    if (auto ip = routes::IpAddress::parse(v4); ip && ip->family == routes::Family::kV4) {
      out.ip = *ip;
      return out;
    }
  }
  std::string v6(rest);
  std::replace(v6.begin(), v6.end(), '_', ':');
  if (auto ip = routes::IpAddress::parse(v6); ip && ip->family == routes::Family::kV6) {
    out.ip = *ip;
    return out;
  }
  return std::nullopt;
}

}  // namespace ng::probes::bgp
