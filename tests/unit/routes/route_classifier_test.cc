#include "probes/routes/route_classifier.h"

#include <gtest/gtest.h>

#include "tests/unit/routes/route_test_util.h"

namespace ng::probes::routes {
namespace {

using namespace test;

const RouteVerdict& for_block(const std::vector<RouteVerdict>& vs, const std::string& block) {
  for (const auto& v : vs) {
    if (v.block == net(block)) return v;
  }
  static RouteVerdict none;
  ADD_FAILURE() << "no verdict for " << block;
  return none;
}

VerdictKind kind_of(const RouteTable& t, const std::vector<Peer>& peers, const std::string& block,
                    const NodeFacts& facts = {}) {
  return for_block(classify(t, peers, facts, {}), block).kind;
}

TEST(RouteClassifier, SameSubnetDirectIsHealthy) {
  auto t = node_a();
  t.upsert_route(via("10.244.2.0/26", "192.168.1.11", kEth0));
  auto vs = classify(t, {peer("node-b", "192.168.1.11", {"10.244.2.0/26"})}, {}, {});
  const auto& v = for_block(vs, "10.244.2.0/26");
  EXPECT_EQ(v.kind, VerdictKind::kHealthy);
  EXPECT_TRUE(v.same_subnet);
  EXPECT_EQ(v.route, "via 192.168.1.11 dev eth0 proto bird");
  EXPECT_EQ(v.peer, "node-b");
  EXPECT_TRUE(v.fix.empty());
}

TEST(RouteClassifier, OtherSubnetViaGatewayIsTheSeedFailure) {
  auto t = node_a();
  t.upsert_route(via("10.244.3.0/26", "192.168.1.1", kEth0, false, kProtoBird, 32));
  for (auto e : {Encapsulation::kNone, Encapsulation::kUnknown}) {
    auto vs = classify(t, {peer("node-c", "192.168.2.10", {"10.244.3.0/26"}, e)}, {}, {});
    const auto& v = for_block(vs, "10.244.3.0/26");
    EXPECT_EQ(v.kind, VerdictKind::kPodRouteViaGateway);
    EXPECT_FALSE(v.same_subnet);
    EXPECT_EQ(v.route, "via 192.168.1.1 dev eth0 proto bird metric 32");
    EXPECT_NE(v.reason.find("gateway 192.168.1.1"), std::string::npos) << v.reason;
    EXPECT_NE(v.fix.find("CrossSubnet"), std::string::npos) << v.fix;
    EXPECT_NE(v.fix.find("IPIP or VXLAN"), std::string::npos) << v.fix;
  }
  EXPECT_EQ(severity_of(VerdictKind::kPodRouteViaGateway), core::Severity::kError);
}

TEST(RouteClassifier, ViaGatewayWhenThePoolExpectsEncapsulationSaysSo) {
  auto t = node_a();
  t.upsert_route(via("10.244.3.0/26", "192.168.1.1", kEth0));
  auto vs = classify(
      t, {peer("node-c", "192.168.2.10", {"10.244.3.0/26"}, Encapsulation::kIpipCrossSubnet)}, {},
      {});
  const auto& v = for_block(vs, "10.244.3.0/26");
  EXPECT_EQ(v.kind, VerdictKind::kPodRouteViaGateway);
  EXPECT_NE(v.fix.find("tunl0"), std::string::npos) << v.fix;
}

TEST(RouteClassifier, IpipOnlinkViaPeerIsHealthy) {
  auto t = node_a();
  t.upsert_route(via("10.244.3.0/26", "192.168.2.10", kTunl0, true));
  for (auto e : {Encapsulation::kIpip, Encapsulation::kIpipCrossSubnet, Encapsulation::kUnknown}) {
    auto vs = classify(t, {peer("node-c", "192.168.2.10", {"10.244.3.0/26"}, e)}, {}, {});
    const auto& v = for_block(vs, "10.244.3.0/26");
    EXPECT_EQ(v.kind, VerdictKind::kHealthy) << to_string(e) << ": " << v.reason;
    EXPECT_EQ(v.route, "via 192.168.2.10 dev tunl0 onlink proto bird");
  }
}

TEST(RouteClassifier, VxlanOnlinkViaVtepIsHealthy) {
  auto t = node_a();
  t.upsert_route(via("10.244.3.0/26", "10.244.3.1", kVxlan, true, kProtoFelix));
  auto vs = classify(t,
                     {peer("node-c", "192.168.2.10", {"10.244.3.0/26"},
                           Encapsulation::kVxlanCrossSubnet, "10.244.3.1")},
                     {}, {});
  EXPECT_EQ(for_block(vs, "10.244.3.0/26").kind, VerdictKind::kHealthy);
  // Unknown VTEP (peer learned without one): any gateway on the VXLAN device is accepted.
  vs = classify(t, {peer("node-c", "192.168.2.10", {"10.244.3.0/26"}, Encapsulation::kVxlan)}, {},
                {});
  EXPECT_EQ(for_block(vs, "10.244.3.0/26").kind, VerdictKind::kHealthy);
}

TEST(RouteClassifier, VxlanViaWrongVtepIsWrongNextHop) {
  auto t = node_a();
  t.upsert_route(via("10.244.3.0/26", "10.244.3.9", kVxlan, true, kProtoFelix));
  auto vs = classify(
      t, {peer("node-c", "192.168.2.10", {"10.244.3.0/26"}, Encapsulation::kVxlan, "10.244.3.1")},
      {}, {});
  EXPECT_EQ(for_block(vs, "10.244.3.0/26").kind, VerdictKind::kPodRouteWrongNextHop);
}

// A VXLAN route with no gateway to a peer whose VTEP nodeguard does not know: judged (wrong next
// hop, says the VTEP is unknown), not a read of an empty address.
TEST(RouteClassifier, VxlanWithoutGatewayToUnknownVtepIsWrongNextHop) {
  auto t = node_a();
  t.upsert_route(via("10.244.3.0/26", "", kVxlan, false, kProtoFelix));
  auto vs = classify(t, {peer("node-c", "192.168.2.10", {"10.244.3.0/26"}, Encapsulation::kVxlan)},
                     {}, {});
  const auto& v = for_block(vs, "10.244.3.0/26");
  EXPECT_EQ(v.kind, VerdictKind::kPodRouteWrongNextHop);
  EXPECT_NE(v.reason.find("no gateway, expected a gateway (the peer's VTEP is not known)"),
            std::string::npos)
      << v.reason;
}

TEST(RouteClassifier, CrossSubnetSameSubnetPeerIsDirect) {
  auto t = node_a();
  t.upsert_route(via("10.244.2.0/26", "192.168.1.11", kEth0, true, kProtoFelix));
  EXPECT_EQ(
      kind_of(t,
              {peer("node-b", "192.168.1.11", {"10.244.2.0/26"}, Encapsulation::kVxlanCrossSubnet)},
              "10.244.2.0/26"),
      VerdictKind::kHealthy);
}

TEST(RouteClassifier, MissingRoute) {
  auto t = node_a();
  auto vs = classify(t, {peer("node-c", "192.168.2.10", {"10.244.3.0/26"})}, {}, {});
  const auto& v = for_block(vs, "10.244.3.0/26");
  EXPECT_EQ(v.kind, VerdictKind::kPodRouteMissing);
  EXPECT_TRUE(v.route.empty());
  EXPECT_NE(v.fix.find("BGP session"), std::string::npos);
  // VXLAN: Felix, not BIRD, programs the route.
  vs = classify(t, {peer("node-c", "192.168.2.10", {"10.244.3.0/26"}, Encapsulation::kVxlan)}, {},
                {});
  EXPECT_NE(for_block(vs, "10.244.3.0/26").fix.find("Felix"), std::string::npos);
}

TEST(RouteClassifier, RouteInAnotherTableDoesNotCount) {
  auto t = node_a();
  auto r = via("10.244.2.0/26", "192.168.1.11", kEth0);
  r.table = 100;
  t.upsert_route(r);
  EXPECT_EQ(kind_of(t, {peer("b", "192.168.1.11", {"10.244.2.0/26"})}, "10.244.2.0/26"),
            VerdictKind::kPodRouteMissing);
  ClassifierOptions o;
  o.table = 100;
  auto vs = classify(t, {peer("b", "192.168.1.11", {"10.244.2.0/26"})}, {}, o);
  EXPECT_EQ(for_block(vs, "10.244.2.0/26").kind, VerdictKind::kHealthy);
}

TEST(RouteClassifier, BlackholeForABlockThisNodeDoesNotOwn) {
  auto t = node_a();
  t.upsert_route(blackhole("10.244.2.0/26"));
  auto r = blackhole("10.244.4.0/26");
  r.type = RouteType::kUnreachable;
  t.upsert_route(r);
  auto vs =
      classify(t, {peer("node-b", "192.168.1.11", {"10.244.2.0/26", "10.244.4.0/26"})}, {}, {});
  EXPECT_EQ(for_block(vs, "10.244.2.0/26").kind, VerdictKind::kPodRouteBlackhole);
  EXPECT_EQ(for_block(vs, "10.244.4.0/26").kind, VerdictKind::kPodRouteBlackhole);
  // The peer's blocks are not mistaken for own blocks.
  size_t own = 0;
  for (const auto& v : vs) own += v.peer.empty();
  EXPECT_EQ(own, 1u);  // 10.244.1.0/26 only
}

TEST(RouteClassifier, TwoRoutesForOneBlock) {
  auto t = node_a();
  t.upsert_route(via("10.244.2.0/26", "192.168.1.11", kEth0, false, kProtoBird, 32));
  t.upsert_route(via("10.244.2.0/26", "192.168.1.12", kEth0, false, kProtoStatic, 100));
  auto vs = classify(t, {peer("node-b", "192.168.1.11", {"10.244.2.0/26"})}, {}, {});
  const auto& v = for_block(vs, "10.244.2.0/26");
  EXPECT_EQ(v.kind, VerdictKind::kPodRouteDuplicate);
  EXPECT_NE(v.route.find("; "), std::string::npos) << v.route;
  // A multipath route spreading one block over two next hops is the same problem.
  auto t2 = node_a();
  auto r = via("10.244.2.0/26", "192.168.1.11", kEth0);
  r.nexthops.push_back({ip("192.168.1.12"), kEth0, false});
  t2.upsert_route(r);
  EXPECT_EQ(kind_of(t2, {peer("node-b", "192.168.1.11", {"10.244.2.0/26"})}, "10.244.2.0/26"),
            VerdictKind::kPodRouteDuplicate);
}

TEST(RouteClassifier, NextHopOnADownLink) {
  auto t = node_a();
  t.upsert_link({kTunl0, "tunl0", "ipip", false, true});
  t.upsert_route(via("10.244.3.0/26", "192.168.2.10", kTunl0, true));
  auto vs = classify(t, {peer("node-c", "192.168.2.10", {"10.244.3.0/26"}, Encapsulation::kIpip)},
                     {}, {});
  EXPECT_EQ(for_block(vs, "10.244.3.0/26").kind, VerdictKind::kPodRouteLinkDown);
  // No carrier counts as down too, and so does a device that vanished.
  auto t2 = node_a();
  t2.upsert_link({kEth0, "eth0", "veth", true, false});
  t2.upsert_route(via("10.244.2.0/26", "192.168.1.11", kEth0));
  EXPECT_EQ(kind_of(t2, {peer("b", "192.168.1.11", {"10.244.2.0/26"})}, "10.244.2.0/26"),
            VerdictKind::kPodRouteLinkDown);
  auto t3 = node_a();
  t3.upsert_route(via("10.244.2.0/26", "192.168.1.11", 42));
  EXPECT_EQ(kind_of(t3, {peer("b", "192.168.1.11", {"10.244.2.0/26"})}, "10.244.2.0/26"),
            VerdictKind::kPodRouteLinkDown);
}

TEST(RouteClassifier, OwnBlockNotBlackholed) {
  auto t = node_a();
  NodeFacts f;
  f.own_blocks = {net("10.244.1.0/26"), net("10.244.1.64/26")};
  auto vs = classify(t, {}, f, {});
  EXPECT_EQ(for_block(vs, "10.244.1.0/26").kind, VerdictKind::kHealthy);
  const auto& v = for_block(vs, "10.244.1.64/26");
  EXPECT_EQ(v.kind, VerdictKind::kOwnBlockNotBlackholed);
  EXPECT_NE(v.fix.find("blackhole 10.244.1.64/26"), std::string::npos) << v.fix;
  EXPECT_TRUE(v.peer.empty());
}

TEST(RouteClassifier, OwnBlocksInferredFromBlackholes) {
  auto vs = classify(node_a(), {}, {}, {});
  ASSERT_EQ(vs.size(), 1u);
  EXPECT_EQ(vs[0].block, net("10.244.1.0/26"));
  EXPECT_EQ(vs[0].kind, VerdictKind::kHealthy);
}

TEST(RouteClassifier, NodeRegisteredAsHostPrefix) {
  auto t = node_a();
  // CrossSubnet with a /32 registration tunnels even the same-subnet peer.
  t.upsert_route(via("10.244.2.0/26", "192.168.1.11", kTunl0, true));
  NodeFacts f;
  f.node_address = IpPrefix{ip("192.168.1.10"), 32};
  auto vs = classify(
      t, {peer("node-b", "192.168.1.11", {"10.244.2.0/26"}, Encapsulation::kIpipCrossSubnet)}, f,
      {});
  EXPECT_EQ(for_block(vs, "192.168.1.10/32").kind, VerdictKind::kNodeAddressHostPrefix);
  const auto& v = for_block(vs, "10.244.2.0/26");
  EXPECT_EQ(v.kind, VerdictKind::kPodRouteEncapsulatedSameSubnet);
  EXPECT_NE(v.reason.find("host prefix"), std::string::npos) << v.reason;
  // Registered with the subnet prefix: no node-level verdict.
  f.node_address = IpPrefix{ip("192.168.1.10"), 24};
  vs = classify(t, {}, f, {});
  for (const auto& x : vs) EXPECT_NE(x.kind, VerdictKind::kNodeAddressHostPrefix);
}

TEST(RouteClassifier, HostPrefixOnEveryUplinkWithCrossSubnetPeers) {
  RouteTable t;
  t.upsert_link({kEth0, "eth0", "", true, true});
  t.add_address({kEth0, ip("10.128.0.5"), 32});
  auto vs = classify(
      t, {peer("n2", "10.128.0.6", {"10.244.9.0/26"}, Encapsulation::kVxlanCrossSubnet)}, {}, {});
  EXPECT_EQ(for_block(vs, "10.128.0.5/32").kind, VerdictKind::kNodeAddressHostPrefix);
}

TEST(RouteClassifier, ExpectedTunnelButPlainRoute) {
  auto t = node_a();
  t.upsert_route(via("10.244.3.0/26", "192.168.2.10", kEth0, true));
  auto vs = classify(t, {peer("node-c", "192.168.2.10", {"10.244.3.0/26"}, Encapsulation::kIpip)},
                     {}, {});
  EXPECT_EQ(for_block(vs, "10.244.3.0/26").kind, VerdictKind::kPodRouteNotEncapsulated);
}

TEST(RouteClassifier, TunnelledButThePoolSaysOtherwise) {
  auto t = node_a();
  t.upsert_route(via("10.244.3.0/26", "10.244.3.1", kVxlan, true));
  auto vs = classify(t, {peer("node-c", "192.168.2.10", {"10.244.3.0/26"}, Encapsulation::kIpip)},
                     {}, {});
  EXPECT_EQ(for_block(vs, "10.244.3.0/26").kind, VerdictKind::kPodRouteEncapsulationMismatch);
  vs = classify(t, {peer("node-c", "192.168.2.10", {"10.244.3.0/26"}, Encapsulation::kNone)}, {},
                {});
  EXPECT_EQ(for_block(vs, "10.244.3.0/26").kind, VerdictKind::kPodRouteEncapsulationMismatch);
}

TEST(RouteClassifier, TunnelRouteWithoutOnlink) {
  auto t = node_a();
  t.upsert_route(via("10.244.3.0/26", "192.168.2.10", kTunl0, false));
  EXPECT_EQ(kind_of(t, {peer("c", "192.168.2.10", {"10.244.3.0/26"}, Encapsulation::kIpip)},
                    "10.244.3.0/26"),
            VerdictKind::kPodRouteNotOnlink);
}

TEST(RouteClassifier, WrongNextHops) {
  auto t = node_a();
  // Via another known node.
  t.upsert_route(via("10.244.2.0/26", "192.168.1.12", kEth0));
  // IPIP via an address that is not the peer.
  t.upsert_route(via("10.244.3.0/26", "192.168.2.99", kTunl0, true));
  // A device route without a gateway.
  t.upsert_route(via("10.244.5.0/26", "", kEth0));
  // Same subnet, a stranger as next hop.
  t.upsert_route(via("10.244.6.0/26", "192.168.1.77", kEth0));
  auto vs =
      classify(t,
               {peer("b", "192.168.1.11", {"10.244.2.0/26", "10.244.5.0/26", "10.244.6.0/26"}),
                peer("c", "192.168.2.10", {"10.244.3.0/26"}, Encapsulation::kIpip),
                peer("d", "192.168.1.12", {})},
               {}, {});
  for (const char* b : {"10.244.2.0/26", "10.244.3.0/26", "10.244.5.0/26", "10.244.6.0/26"}) {
    EXPECT_EQ(for_block(vs, b).kind, VerdictKind::kPodRouteWrongNextHop) << b;
  }
}

TEST(RouteClassifier, IPv6Shapes) {
  auto t = node_a();
  t.upsert_route(via("fd00:10:2::/122", "fd00:1::11", kEth0));
  t.upsert_route(via("fd00:10:3::/122", "fd00:1::1", kEth0));
  t.upsert_route(via("fd00:10:4::/122", "fd00:10:4::1", kVxlan6, true, kProtoFelix));
  auto vs = classify(t,
                     {peer("b6", "fd00:1::11", {"fd00:10:2::/122"}),
                      peer("c6", "fd00:2::10", {"fd00:10:3::/122", "fd00:10:9::/122"}),
                      peer("d6", "fd00:2::20", {"fd00:10:4::/122"},
                           Encapsulation::kVxlanCrossSubnet, "fd00:10:4::1")},
                     {}, {});
  EXPECT_EQ(for_block(vs, "fd00:10:2::/122").kind, VerdictKind::kHealthy);
  EXPECT_TRUE(for_block(vs, "fd00:10:2::/122").same_subnet);
  EXPECT_EQ(for_block(vs, "fd00:10:3::/122").kind, VerdictKind::kPodRouteViaGateway);
  EXPECT_EQ(for_block(vs, "fd00:10:9::/122").kind, VerdictKind::kPodRouteMissing);
  EXPECT_EQ(for_block(vs, "fd00:10:4::/122").kind, VerdictKind::kHealthy);
  // Link-local addresses never make a peer "same subnet".
  EXPECT_FALSE(for_block(vs, "fd00:10:3::/122").same_subnet);
}

TEST(RouteClassifier, SubnetsComeFromTheTableNotFromConstants) {
  // A different topology: 172.20.0.0/16 uplink, peers in 172.20.x and 10.9.x.
  RouteTable t;
  t.upsert_link({7, "ens5", "", true, true});
  t.add_address({7, ip("172.20.3.4"), 16});
  t.upsert_route(via("0.0.0.0/0", "172.20.0.1", 7, false, kProtoBoot));
  t.upsert_route(via("100.64.1.0/24", "172.20.9.9", 7));
  t.upsert_route(via("100.64.2.0/24", "172.20.0.1", 7));
  auto vs = classify(
      t,
      {peer("near", "172.20.9.9", {"100.64.1.0/24"}), peer("far", "10.9.0.5", {"100.64.2.0/24"})},
      {}, {});
  EXPECT_EQ(for_block(vs, "100.64.1.0/24").kind, VerdictKind::kHealthy);
  EXPECT_EQ(for_block(vs, "100.64.2.0/24").kind, VerdictKind::kPodRouteViaGateway);
}

TEST(RouteClassifier, VerdictKindNamesAreStable) {
  EXPECT_EQ(to_string(VerdictKind::kPodRouteViaGateway), "PodRouteViaGateway");
  EXPECT_EQ(to_string(VerdictKind::kPodRouteMissing), "PodRouteMissing");
  for (auto k : all_verdict_kinds()) EXPECT_EQ(parse_verdict_kind(to_string(k)), k);
  EXPECT_FALSE(parse_verdict_kind("Nope"));
}

}  // namespace
}  // namespace ng::probes::routes
