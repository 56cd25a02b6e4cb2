#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "probes/routes/ip_prefix.h"

namespace ng::probes::routes {

// Linux route protocol numbers that matter here (rtnetlink.h and Calico's own).
inline constexpr std::uint8_t kProtoKernel = 2;
inline constexpr std::uint8_t kProtoBoot = 3;  // also Calico's VXLAN device routes by default
inline constexpr std::uint8_t kProtoStatic = 4;
inline constexpr std::uint8_t kProtoBird = 12;
inline constexpr std::uint8_t kProtoFelix = 80;
inline constexpr std::uint32_t kMainTable = 254;

struct Link {
  int index = 0;
  std::string name;
  std::string kind;       // "vxlan", "veth", "bridge", ... ("" when the kernel gave none)
  bool admin_up = false;  // IFF_UP
  bool carrier = true;    // operstate not down / lowerlayerdown
  bool usable() const { return admin_up && carrier; }
};

struct Address {
  int ifindex = 0;
  IpAddress local;
  int length = 0;  // prefix length on the interface
  IpPrefix network() const { return IpPrefix::of(local, length); }
  bool operator==(const Address&) const = default;
};

enum class RouteType : std::uint8_t {
  kUnicast,
  kLocal,
  kBroadcast,
  kBlackhole,
  kUnreachable,
  kProhibit,
  kOther,
};
std::string_view to_string(RouteType t);

struct NextHop {
  std::optional<IpAddress> gateway;
  int ifindex = 0;
  bool onlink = false;
  bool operator==(const NextHop&) const = default;
};

struct Route {
  IpPrefix dst;
  std::uint32_t table = kMainTable;
  std::uint8_t protocol = kProtoBoot;
  RouteType type = RouteType::kUnicast;
  std::uint32_t metric = 0;
  std::uint8_t tos = 0;
  std::vector<NextHop> nexthops;

  bool drops() const {
    return type == RouteType::kBlackhole || type == RouteType::kUnreachable ||
           type == RouteType::kProhibit;
  }
};

// What identifies a route in the kernel: a second route with the same key replaces the first.
struct RouteKey {
  IpPrefix dst;
  std::uint32_t table = 0;
  std::uint8_t tos = 0;
  std::uint32_t metric = 0;
  auto operator<=>(const RouteKey&) const = default;
  static RouteKey of(const Route& r) { return {r.dst, r.table, r.tos, r.metric}; }
};

// A snapshot of the node's links, addresses and routes (all tables, both families). The route
// source keeps one current; the classifier reads it. Plain data: tests build one by hand.
class RouteTable {
 public:
  void upsert_link(Link link) { links_[link.index] = std::move(link); }
  void remove_link(int index);
  void add_address(const Address& a);
  void remove_address(const Address& a);
  void upsert_route(Route r) { routes_[RouteKey::of(r)] = std::move(r); }
  void remove_route(const RouteKey& key) { routes_.erase(key); }
  void clear() {
    links_.clear();
    addresses_.clear();
    routes_.clear();
  }

  const std::map<int, Link>& links() const { return links_; }
  const std::vector<Address>& addresses() const { return addresses_; }
  const std::map<RouteKey, Route>& routes() const { return routes_; }
  const Link* link(int index) const;
  const Link* link_by_name(const std::string& name) const;
  std::string link_name(int index) const;  // "if<N>" for an unknown index

  // The route the way `ip route` prints it, without the destination:
  // "via 192.168.1.1 dev eth0 proto bird metric 32 onlink", "blackhole proto bird".
  std::string describe(const Route& r) const;

 private:
  std::map<int, Link> links_;
  std::vector<Address> addresses_;
  std::map<RouteKey, Route> routes_;
};

std::string protocol_name(std::uint8_t protocol);

}  // namespace ng::probes::routes
