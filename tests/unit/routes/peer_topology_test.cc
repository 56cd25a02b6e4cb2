#include "probes/routes/peer_topology.h"

#include <gtest/gtest.h>

#include "tests/unit/routes/route_test_util.h"

namespace ng::probes::routes {
namespace {

using namespace test;

TEST(PeerTopology, MergesByNodeIpWithPrecedence) {
  PeerTopology t;
  Peer b = peer("192.168.1.11", "192.168.1.11", {"10.244.2.0/26"});
  b.sources = {PeerSource::kBird};
  Peer c_bird = peer("192.168.2.10", "192.168.2.10", {"10.244.3.0/26", "10.244.3.64/26"});
  c_bird.sources = {PeerSource::kBird};
  t.set_bird({b, c_bird});
  t.set_config(
      {peer("node-c", "192.168.2.10", {"10.244.3.0/26"}, Encapsulation::kIpipCrossSubnet)});
  Peer c_ctl =
      peer("node-c-ctl", "192.168.2.10", {}, Encapsulation::kVxlanCrossSubnet, "10.244.3.1");
  c_ctl.sources = {PeerSource::kController};
  t.set_controller({c_ctl});
  auto m = t.merged();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].name, "192.168.1.11");
  EXPECT_EQ(m[1].name, "node-c-ctl");
  EXPECT_EQ(m[1].encapsulation, Encapsulation::kVxlanCrossSubnet);
  EXPECT_EQ(m[1].tunnel_address, ip("10.244.3.1"));
  EXPECT_EQ(m[1].blocks.size(), 2u);  // union
  EXPECT_EQ(m[1].sources, (std::vector<PeerSource>{PeerSource::kBird, PeerSource::kConfig,
                                                   PeerSource::kController}));
}

TEST(PeerTopology, PeerFromSpecValidates) {
  PeerSpec s;
  s.node_ip = "10.0.0.2";
  s.blocks = {"10.244.0.0/26"};
  std::string err;
  auto p = peer_from_spec(s, PeerSource::kConfig, &err);
  ASSERT_TRUE(p) << err;
  EXPECT_EQ(p->name, "10.0.0.2");
  EXPECT_EQ(p->encapsulation, Encapsulation::kNone);
  s.blocks = {"10.244.0.1/26"};
  EXPECT_FALSE(peer_from_spec(s, PeerSource::kConfig, &err));
  EXPECT_NE(err.find("blocks[0]"), std::string::npos);
  s.blocks = {};
  s.encapsulation = "gre";
  EXPECT_FALSE(peer_from_spec(s, PeerSource::kConfig, &err));
  EXPECT_NE(err.find("encapsulation"), std::string::npos);
  s.encapsulation = "ipip";
  s.node_ip = "node-a";
  EXPECT_FALSE(peer_from_spec(s, PeerSource::kConfig, &err));
  EXPECT_NE(err.find("node_ip"), std::string::npos);
}

}  // namespace
}  // namespace ng::probes::routes
