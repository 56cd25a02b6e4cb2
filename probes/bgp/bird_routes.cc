#include "probes/bgp/bird_routes.h"

#include <cctype>

#include "probes/bgp/bird_text.h"

namespace ng::probes::bgp {
namespace {

constexpr int kRouteRow = 1007;
constexpr int kAttrType = 1008;
constexpr int kAttr = 1012;

// "via 192.168.1.1 on eth0" (also "dev eth0") anywhere in the text.
void parse_nexthop(std::string_view text, BirdRoute& r) {
  std::string_view rest = text;
  while (!rest.empty()) {
    auto tok = next_token(rest);
    if (tok.empty()) break;
    if (tok == "via") {
      auto ip = next_token(rest);
      if (auto a = routes::IpAddress::parse(ip)) r.via = a;
    } else if (tok == "on" || tok == "dev") {
      r.iface = next_token(rest);
    } else if (tok.front() == '[') {
      break;
    }
  }
}

// Parses "[Mesh_x 09:16:28.784 from 192.168.2.10] * (100/?) [i]" starting at '['.
bool parse_source(std::string_view text, BirdRoute& r) {
  const auto open = text.find('[');
  const auto close = text.find(']', open);
  if (open == std::string_view::npos || close == std::string_view::npos) return false;
  std::string_view inside = text.substr(open + 1, close - open - 1);
  r.protocol = next_token(inside);
  if (r.protocol.empty()) return false;
  while (!inside.empty()) {
    auto tok = next_token(inside);
    if (tok == "from") {
      if (auto a = routes::IpAddress::parse(next_token(inside))) r.from = a;
    } else if (tok.empty()) {
      break;
    }
  }
  std::string_view after = trim(text.substr(close + 1));
  r.primary = !after.empty() && after.front() == '*';
  return true;
}

}  // namespace

RoutesResult parse_routes(const BirdReply& reply) {
  RoutesResult out;
  out.skipped = reply.garbage;
  std::optional<routes::IpPrefix> last_prefix;
  for (const auto& line : reply.lines) {
    std::string_view text = line.text;
    if (line.code == kRouteRow) {
      std::string_view t = trim(text);
      if (t.empty() || t.substr(0, 6) == "Table ") continue;
      const bool has_source = t.find('[') != std::string_view::npos;
      std::string_view rest = t;
      std::string_view first = next_token(rest);
      auto prefix = routes::IpPrefix::parse(first, true);
      if (!has_source) {
        // A next-hop line of the route above (BIRD 2: "\tvia 192.168.1.1 on eth0").
        if (!out.routes.empty() && !prefix) {
          parse_nexthop(t, out.routes.back());
        } else {
          ++out.skipped;
        }
        continue;
      }
      BirdRoute r;
      if (prefix) {
        last_prefix = prefix;
        r.prefix = *prefix;
      } else if (last_prefix) {
        // Another route for the prefix above: "   via 10.0.0.9 on em0 [Global_10_0_0_9 ...]".
        r.prefix = *last_prefix;
        rest = t;
      } else {
        ++out.skipped;
        continue;
      }
      // BIRD 2: "unicast [..." / "blackhole [..."; BIRD 1.6: "via X on eth0 [..." / "blackhole
      // [...".
      std::string_view probe = rest;
      auto kind = next_token(probe);
      if (!kind.empty() && kind.front() != '[' && kind != "via" && kind != "dev") {
        r.kind = kind;
      } else {
        r.kind = "unicast";
      }
      parse_nexthop(rest, r);
      if (!parse_source(rest, r)) {
        ++out.skipped;
        continue;
      }
      out.routes.push_back(std::move(r));
    } else if (line.code == kAttr || line.code == kAttrType) {
      if (out.routes.empty()) continue;
      std::string_view t = trim(text);
      constexpr std::string_view kNextHop = "BGP.next_hop:";
      if (t.substr(0, kNextHop.size()) == kNextHop) {
        std::string_view v = t.substr(kNextHop.size());
        if (auto a = routes::IpAddress::parse(next_token(v))) out.routes.back().bgp_next_hop = a;
      }
    }
  }
  return out;
}

}  // namespace ng::probes::bgp
