#pragma once

#include <string>

#include "probes/routes/peer.h"
#include "probes/routes/route_table.h"

namespace ng::probes::routes::test {

inline IpAddress ip(const std::string& s) {
  return *IpAddress::parse(s);
}
inline IpPrefix net(const std::string& s) {
  return *IpPrefix::parse(s);
}

inline Route via(const std::string& dst, const std::string& gw, int ifindex, bool onlink = false,
                 std::uint8_t proto = kProtoBird, std::uint32_t metric = 0) {
  Route r;
  r.dst = net(dst);
  r.protocol = proto;
  r.metric = metric;
  NextHop nh;
  if (!gw.empty()) nh.gateway = ip(gw);
  nh.ifindex = ifindex;
  nh.onlink = onlink;
  r.nexthops.push_back(nh);
  return r;
}

inline Route blackhole(const std::string& dst, std::uint8_t proto = kProtoBird) {
  Route r;
  r.dst = net(dst);
  r.type = RouteType::kBlackhole;
  r.protocol = proto;
  return r;
}

enum : int { kLo = 1, kEth0 = 2, kTunl0 = 3, kVxlan = 4, kVxlan6 = 5 };

// A node like node A of the lab: 192.168.1.10/24 and fd00:1::10/64 on eth0, default routes
// via the gateways, the usual tunnel devices, and its own block blackholed.
inline RouteTable node_a() {
  RouteTable t;
  t.upsert_link({kLo, "lo", "", true, true});
  t.upsert_link({kEth0, "eth0", "veth", true, true});
  t.upsert_link({kTunl0, "tunl0", "ipip", true, true});
  t.upsert_link({kVxlan, "vxlan.calico", "vxlan", true, true});
  t.upsert_link({kVxlan6, "vxlan-v6.calico", "vxlan", true, true});
  t.add_address({kLo, ip("127.0.0.1"), 8});
  t.add_address({kEth0, ip("192.168.1.10"), 24});
  t.add_address({kEth0, ip("fd00:1::10"), 64});
  t.add_address({kEth0, ip("fe80::1"), 64});
  t.add_address({kVxlan, ip("10.244.1.1"), 32});
  t.upsert_route(via("0.0.0.0/0", "192.168.1.1", kEth0, false, kProtoBoot));
  t.upsert_route(via("::/0", "fd00:1::1", kEth0, false, kProtoBoot));
  Route connected;
  connected.dst = net("192.168.1.0/24");
  connected.protocol = kProtoKernel;
  connected.nexthops.push_back({std::nullopt, kEth0, false});
  t.upsert_route(connected);
  t.upsert_route(blackhole("10.244.1.0/26"));
  return t;
}

inline Peer peer(const std::string& name, const std::string& node_ip,
                 std::vector<std::string> blocks, Encapsulation e = Encapsulation::kUnknown,
                 const std::string& tunnel = "") {
  Peer p;
  p.name = name;
  p.node_ip = ip(node_ip);
  for (const auto& b : blocks) p.blocks.push_back(net(b));
  p.encapsulation = e;
  if (!tunnel.empty()) p.tunnel_address = ip(tunnel);
  p.sources = {PeerSource::kConfig};
  return p;
}

}  // namespace ng::probes::routes::test
