#include <gtest/gtest.h>

#include "agent/config/config_loader.h"

namespace ng::agent {
namespace {

std::string first_error(const std::string& yaml) {
  AgentConfig c;
  auto errors = apply_yaml(c, yaml, "nodeguard.yaml");
  return errors.empty() ? "" : errors.front().to_string();
}

TEST(RoutesConfig, ReadsTheSections) {
  AgentConfig c;
  auto errors = apply_yaml(c, R"(
routes:
  node_address: 192.168.1.10/24
  own_blocks: [10.244.1.0/26]
  table: 254
  vxlan_devices: [vxlan.calico, flannel.1]
  peers:
    - {name: node-c, node_ip: 192.168.2.10, blocks: [10.244.3.0/26], tunnel_address: 10.244.3.1,
       encapsulation: vxlan-crosssubnet}
bgp:
  bird_sockets: [/var/run/calico/bird.ctl]
probes:
  failure_threshold: 2
  tcp: [{name: api, address: "10.0.0.1:6443", kind: external}]
  icmp: [{name: gw, address: 192.168.1.1, kind: peer}]
)",
                           "nodeguard.yaml");
  ASSERT_TRUE(errors.empty()) << errors.front().to_string();
  EXPECT_EQ(c.routes.node_address, "192.168.1.10/24");
  ASSERT_EQ(c.routes.peers.size(), 1u);
  EXPECT_EQ(c.routes.peers[0].tunnel_address, "10.244.3.1");
  EXPECT_EQ(c.probes.icmp.size(), 1u);
  EXPECT_EQ(c.probes.failure_threshold, 2);
}

TEST(RoutesConfig, BadValuesNameTheKey) {
  EXPECT_NE(first_error("routes: {node_address: 192.168.1.10}").find("routes.node_address"),
            std::string::npos);
  EXPECT_NE(first_error("routes: {node_address: 192.168.1.10/99}").find("ADDRESS/PREFIX"),
            std::string::npos);
  EXPECT_NE(
      first_error("routes: {peers: [{node_ip: 10.0.0.2, blocks: [10.244.0.1/26]}]}").find("blocks"),
      std::string::npos);
  EXPECT_NE(first_error("routes: {peers: [{node_ip: 10.0.0.2, encapsulation: gre}]}")
                .find("encapsulation"),
            std::string::npos);
  EXPECT_NE(first_error("probes: {icmp: [{name: x, address: \"10.0.0.1:80\"}]}").find("address"),
            std::string::npos);
  EXPECT_NE(first_error("probes: {failure_threshold: 0}").find("failure_threshold"),
            std::string::npos);
  EXPECT_NE(first_error("bgp: {bird_sockets: [relative.ctl]}").find("bgp.bird_sockets"),
            std::string::npos);
}

}  // namespace
}  // namespace ng::agent
