#include "probes/bgp/bird_protocols.h"

#include <gtest/gtest.h>

#include "probes/bgp/bird_routes.h"
#include "tests/unit/bgp/testdata.h"

namespace ng::probes::bgp {
namespace {

using ng::testing::bird_reply_of;

const BirdProtocol* find(const ProtocolsResult& r, const std::string& name) {
  for (const auto& p : r.protocols) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

routes::IpAddress ip(const char* s) {
  return *routes::IpAddress::parse(s);
}

TEST(BirdProtocols, Bird2ShowProtocols) {
  auto r = parse_protocols(parse_reply(bird_reply_of("bird2_show_protocols.txt")));
  EXPECT_EQ(r.skipped, 0u);
  ASSERT_EQ(r.protocols.size(), 6u);
  const auto* b = find(r, "Mesh_192_168_1_11");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->is_bgp());
  EXPECT_EQ(b->table, "---");
  EXPECT_EQ(b->state, "up");
  EXPECT_EQ(b->since, "09:16:29.239");
  EXPECT_EQ(b->bgp_state, "Established");
  EXPECT_EQ(b->neighbor_address, ip("192.168.1.11"));  // decoded from the name
  const auto* k = find(r, "kernel1");
  ASSERT_TRUE(k);
  EXPECT_FALSE(k->is_bgp());
  EXPECT_EQ(k->table, "master4");
}

TEST(BirdProtocols, Bird2PeerDownWithLastError) {
  auto r = parse_protocols(parse_reply(bird_reply_of("bird2_show_protocols_all_peer_down.txt")));
  const auto* c = find(r, "Mesh_192_168_2_10");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->state, "start");
  EXPECT_EQ(c->bgp_state, "Active");
  EXPECT_FALSE(c->established());
  EXPECT_EQ(c->last_error, "Socket: Connection refused");
  EXPECT_EQ(c->neighbor_address, ip("192.168.2.10"));
  EXPECT_EQ(c->neighbor_as, "64512");
  const auto* b = find(r, "Mesh_192_168_1_11");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->established());
  EXPECT_EQ(r.skipped, 0u);
  // The short form carries the state and error in the info column.
  auto s = parse_protocols(parse_reply(bird_reply_of("bird2_show_protocols_peer_down.txt")));
  const auto* c2 = find(s, "Mesh_192_168_2_10");
  ASSERT_TRUE(c2);
  EXPECT_EQ(c2->bgp_state, "Active");
  EXPECT_EQ(c2->last_error, "Received: Administrative shutdown");
}

TEST(BirdProtocols, Bird16ShowProtocols) {
  auto r = parse_protocols(parse_reply(bird_reply_of("bird16_show_protocols.txt")));
  ASSERT_EQ(r.protocols.size(), 8u);
  const auto* m = find(r, "Mesh_10_0_0_2");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->table, "master");
  EXPECT_EQ(m->since, "2024-03-04 10:11:12");  // date and time: two tokens, one column
  EXPECT_EQ(m->bgp_state, "Established");
  EXPECT_EQ(m->info, "Established");
  const auto* a = find(r, "Mesh_10_0_1_7");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->bgp_state, "Active");
  EXPECT_EQ(a->last_error, "Socket: Connection refused");
  const auto* n = find(r, "Node_10_0_0_254");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->bgp_state, "Connect");
  const auto* g = find(r, "Global_10_0_9_1");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->since, "2024-03-01");
  EXPECT_EQ(g->neighbor_address, ip("10.0.9.1"));
}

TEST(BirdProtocols, Bird16ShowProtocolsAllWithBlankSeparators) {
  auto r = parse_protocols(parse_reply(bird_reply_of("bird16_show_protocols_all.txt")));
  ASSERT_EQ(r.protocols.size(), 4u);
  const auto* a = find(r, "Mesh_10_0_1_7");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->bgp_state, "Active");
  EXPECT_EQ(a->last_error, "Socket: Connection refused");
  EXPECT_EQ(a->neighbor_address, ip("10.0.1.7"));
  EXPECT_TRUE(find(r, "Mesh_10_0_0_2")->established());
}

TEST(BirdProtocols, Bird16Ipv6Socket) {
  auto r = parse_protocols(parse_reply(bird_reply_of("bird16_v6_show_protocols.txt")));
  const auto* m = find(r, "Mesh_fd00_10__2");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->neighbor_address, ip("fd00:10::2"));
  const auto* o = find(r, "Mesh_fd00_10__7");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->bgp_state, "OpenSent");
}

TEST(BirdProtocols, GarbageRowsAreSkipped) {
  auto r = parse_protocols(parse_reply(bird_reply_of("bird2_show_protocols_garbage.txt")));
  EXPECT_EQ(r.protocols.size(), 3u);
  EXPECT_GE(r.skipped, 3u);  // two garbage lines and the one-token row " x"
  EXPECT_TRUE(find(r, "Mesh_192_168_2_10"));
  // An error reply has no protocols, and that is not a crash.
  EXPECT_TRUE(
      parse_protocols(parse_reply(bird_reply_of("bird2_runtime_error.txt"))).protocols.empty());
}

TEST(BirdProtocols, DecodesCalicoPeerNames) {
  auto m = decode_peer_name("Mesh_10_0_0_2");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, "node-to-node mesh");
  EXPECT_EQ(m->ip, ip("10.0.0.2"));
  EXPECT_EQ(decode_peer_name("Node_172_16_0_1")->type, "node specific");
  EXPECT_EQ(decode_peer_name("Global_192_0_2_1")->type, "global");
  EXPECT_EQ(decode_peer_name("Mesh_fd00__2")->ip, ip("fd00::2"));
  EXPECT_EQ(decode_peer_name("Mesh_2001_db8_0_0_0_0_0_1")->ip, ip("2001:db8::1"));
  EXPECT_EQ(decode_peer_name("Node_10_0_0_9_port_1790")->ip, ip("10.0.0.9"));
  for (const char* bad :
       {"kernel1", "Mesh_", "Mesh_10_0_0", "Mesh_300_0_0_1", "Mesh_x_y", "bgp1", "Global_"}) {
    EXPECT_FALSE(decode_peer_name(bad)) << bad;
  }
}

TEST(BirdRoutes, Bird2ShowRouteAll) {
  auto r = parse_routes(parse_reply(bird_reply_of("bird2_show_route_all.txt")));
  EXPECT_EQ(r.skipped, 0u);
  ASSERT_EQ(r.routes.size(), 5u);
  const auto& c = r.routes[2];
  EXPECT_EQ(c.prefix.to_string(), "10.244.3.0/26");
  EXPECT_EQ(c.protocol, "Mesh_192_168_2_10");
  EXPECT_TRUE(c.primary);
  EXPECT_EQ(c.from, ip("192.168.2.10"));
  EXPECT_EQ(c.via, ip("192.168.1.1"));  // the seed: resolved through the gateway
  EXPECT_EQ(c.iface, "eth0");
  EXPECT_EQ(c.bgp_next_hop, ip("192.168.2.10"));
  EXPECT_EQ(r.routes[1].kind, "blackhole");
  EXPECT_EQ(r.routes[3].via, ip("192.168.1.11"));
}

TEST(BirdRoutes, Bird2ShowRouteWithoutAttributes) {
  auto r = parse_routes(parse_reply(bird_reply_of("bird2_show_route.txt")));
  ASSERT_EQ(r.routes.size(), 5u);
  EXPECT_EQ(r.routes[3].protocol, "Mesh_192_168_1_11");
  EXPECT_EQ(r.routes[3].via, ip("192.168.1.11"));
  EXPECT_FALSE(r.routes[3].bgp_next_hop);
}

TEST(BirdRoutes, Bird16ShowRouteAllWithAlternatives) {
  auto r = parse_routes(parse_reply(bird_reply_of("bird16_show_route_all.txt")));
  ASSERT_EQ(r.routes.size(), 6u);
  const auto& reflected = r.routes[2];
  EXPECT_EQ(reflected.prefix.to_string(), "10.244.7.0/26");
  EXPECT_EQ(reflected.bgp_next_hop, ip("10.0.1.9"));  // the owner, behind a reflector
  EXPECT_TRUE(reflected.primary);
  const auto& alt = r.routes[3];
  EXPECT_EQ(alt.prefix.to_string(), "10.244.7.0/26");
  EXPECT_EQ(alt.protocol, "Global_10_0_9_1");
  EXPECT_FALSE(alt.primary);
  EXPECT_EQ(alt.via, ip("10.0.9.1"));
  EXPECT_EQ(r.routes[4].kind, "blackhole");
}

}  // namespace
}  // namespace ng::probes::bgp
