#include <gtest/gtest.h>

#include "agent/config/config_flags.h"
#include "agent/config/config_loader.h"
#include "agent/config/config_printer.h"
#include "agent/config/config_reference.h"

namespace ng::agent {
namespace {

using namespace std::chrono_literals;

std::string all_errors(const std::vector<ConfigError>& errors) {
  std::string s;
  for (const auto& e : errors) s += e.to_string() + "\n";
  return s;
}

TEST(ConfigLoader, DefaultsAreValid) {
  AgentConfig c;
  EXPECT_TRUE(validate(c).empty());
  EXPECT_EQ(c.metrics_listen, "0.0.0.0:9746");
  EXPECT_EQ(c.health_listen, "0.0.0.0:9747");
  EXPECT_EQ(c.netfilter.poll_interval, 20ms);
}

TEST(ConfigLoader, ReadsEveryKindOfValue) {
  AgentConfig c;
  const auto errors = apply_yaml(c, R"(
node_name: node-a
dry_run: true
metrics_listen: "127.0.0.1:0"
health_listen: ""
netfilter:
  backend: nft
  poll_interval: 50ms
  guard:
    nat: ["CNI-*", "MY-*"]
bgp:
  bird_sockets: [/run/bird.ctl]
routes:
  peers:
    - node_ip: 192.168.2.10
      blocks: [10.244.2.0/26]
      encapsulation: vxlan-crosssubnet
api:
  max_requests_per_second: 50.5
logs:
  max_line_bytes: 1024
)",
                                 "test.yaml");
  ASSERT_TRUE(errors.empty()) << all_errors(errors);
  EXPECT_EQ(c.node_name, "node-a");
  EXPECT_TRUE(c.dry_run);
  EXPECT_EQ(c.netfilter.backend, "nft");
  EXPECT_EQ(c.netfilter.poll_interval, 50ms);
  ASSERT_EQ(c.netfilter.guard.size(), 1u);
  EXPECT_EQ(c.netfilter.guard["nat"][1], "MY-*");
  ASSERT_EQ(c.routes.peers.size(), 1u);
  EXPECT_EQ(c.routes.peers[0].blocks[0], "10.244.2.0/26");
  EXPECT_EQ(c.routes.peers[0].encapsulation, "vxlan-crosssubnet");
  EXPECT_DOUBLE_EQ(c.api.max_requests_per_second, 50.5);
  EXPECT_EQ(c.logs.max_line_bytes, 1024);
  // Keys not in the file keep their defaults.
  EXPECT_EQ(c.state_dir, "/var/lib/nodeguard");
}

struct BadCase {
  const char* yaml;
  const char* key;
  const char* where;
  const char* reason;
};
// Stable test names (ctest lists each case by its printed parameter): the key it names.
void PrintTo(const BadCase& c, std::ostream* os) {
  *os << c.key;
}

class ConfigLoaderRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConfigLoaderRejects, NamingKeyLineAndReason) {
  const BadCase& bc = GetParam();
  AgentConfig c;
  const AgentConfig before = c;
  const auto errors = apply_yaml(c, bc.yaml, "cfg.yaml");
  ASSERT_EQ(errors.size(), 1u) << all_errors(errors);
  EXPECT_EQ(errors[0].key, bc.key);
  EXPECT_EQ(errors[0].where, bc.where);
  EXPECT_NE(errors[0].reason.find(bc.reason), std::string::npos) << errors[0].reason;
  // Nothing of a bad file is applied.
  EXPECT_EQ(c.node_name, before.node_name);
  EXPECT_EQ(c.netfilter.poll_interval, before.netfilter.poll_interval);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ConfigLoaderRejects,
    ::testing::Values(
        BadCase{"node_name: a\nnetfilter:\n  pol_interval: 5ms\n", "netfilter.pol_interval",
                "cfg.yaml line 3", "did you mean \"poll_interval\""},
        BadCase{"bogus: 1\n", "bogus", "cfg.yaml line 1", "unknown key"},
        // An empty key still gets a name (found by the config fuzzer: it had none).
        BadCase{":\n : 5ms\n", "\"\"", "cfg.yaml line 1", "unknown key"},
        BadCase{"netfilter:\n  poll_interval: 1\n", "netfilter.poll_interval", "cfg.yaml line 2",
                "expected a duration"},
        BadCase{"netfilter:\n  poll_interval: 1h\n", "netfilter.poll_interval", "cfg.yaml line 2",
                "must be between 1ms and 10s"},
        BadCase{"dry_run: maybe\n", "dry_run", "cfg.yaml line 1", "expected true or false"},
        BadCase{"worker_threads: 99\n", "worker_threads", "cfg.yaml line 1", "between 1 and 16"},
        BadCase{"worker_threads: two\n", "worker_threads", "cfg.yaml line 1",
                "expected an integer"},
        BadCase{"log_level: loud\n", "log_level", "cfg.yaml line 1", "must be one of debug"},
        BadCase{"metrics_listen: nonsense\n", "metrics_listen", "cfg.yaml line 1", "HOST:PORT"},
        BadCase{"netfilter: [1, 2]\n", "netfilter", "cfg.yaml line 1", "expected a mapping"},
        BadCase{"bgp:\n  bird_sockets: [/ok, relative]\n", "bgp.bird_sockets[1]", "cfg.yaml line 2",
                "absolute path"},
        BadCase{"routes:\n  peers:\n    - node_ip: 10.0.0.1\n      colour: red\n",
                "routes.peers[0].colour", "cfg.yaml line 4", "unknown key"},
        BadCase{"routes:\n  peers:\n    - node_ip: 10.0.0.300\n", "routes.peers[0].node_ip",
                "cfg.yaml line 3", "IPv4 or IPv6"},
        // The Kubernetes exporter's keys (issue 20).
        BadCase{"kubernetes:\n  enabled: yes-please\n", "kubernetes.enabled", "cfg.yaml line 2",
                "must be one of auto"},
        BadCase{"kubernetes:\n  taints: [DiskFull=PreferNoSchedule]\n", "kubernetes.taints[0]",
                "cfg.yaml line 2", "NoSchedule or NoExecute"},
        BadCase{"kubernetes:\n  conditions: [\"Disk Full\"]\n", "kubernetes.conditions[0]",
                "cfg.yaml line 2", "TYPE or TYPE=NODE_CONDITION_TYPE"},
        BadCase{"kubernetes:\n  events: {burst: 0}\n", "kubernetes.events.burst", "cfg.yaml line 2",
                "between 1 and 1000"},
        BadCase{"kubernetes:\n  kubeconfig: relative/config\n", "kubernetes.kubeconfig",
                "cfg.yaml line 2", "absolute path"},
        BadCase{"node_name: [a\n", "(syntax)", "cfg.yaml line 2", ""},
        BadCase{"- a\n- b\n", "(top level)", "cfg.yaml line 1", "expected a mapping"},
        // Client identities name the certificate field they match.
        BadCase{"api:\n  allowed_clients: [nodeguard-controller]\n", "api.allowed_clients[0]",
                "cfg.yaml line 2", "did you mean \"dns:nodeguard-controller\"?"},
        BadCase{"api:\n  allowed_log_clients: [\"spiffe://c/ns/a/sa/b\"]\n",
                "api.allowed_log_clients[0]", "cfg.yaml line 2",
                "did you mean \"uri:spiffe://c/ns/a/sa/b\"?"},
        BadCase{"api:\n  allowed_clients: [\"ip:10.0.0.1\"]\n", "api.allowed_clients[0]",
                "cfg.yaml line 2", "dns:NAME (a DNS SAN)"},
        BadCase{"api:\n  allowed_log_uids: [root]\n", "api.allowed_log_uids[0]", "cfg.yaml line 2",
                "numeric uid"}));

TEST(ConfigLoader, FlagsOverrideFileAndNameTheFlag) {
  AgentConfig c;
  ASSERT_TRUE(apply_yaml(c, "netfilter:\n  poll_interval: 50ms\nnode_name: file\n", "f").empty());
  auto errors = apply_overrides(c, {{"netfilter.poll_interval", "20ms"},
                                    {"dry_run", "true"},
                                    {"logs.files", "/a.log,/b.log"},
                                    {"netfilter.guard", "{nat: [X-*]}"}});
  ASSERT_TRUE(errors.empty()) << all_errors(errors);
  EXPECT_EQ(c.netfilter.poll_interval, 20ms);
  EXPECT_TRUE(c.dry_run);
  EXPECT_EQ(c.node_name, "file");
  EXPECT_EQ(c.logs.files, (std::vector<std::string>{"/a.log", "/b.log"}));
  EXPECT_EQ(c.netfilter.guard["nat"][0], "X-*");

  errors = apply_overrides(c, {{"netfilter.poll_interval", "fast"}});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].where, "flag --netfilter-poll-interval");
  errors = apply_overrides(c, {{"netfilter.guard", "{nat: [[1]]}"}});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].where, "flag --netfilter-guard");
}

TEST(ConfigLoader, CrossKeyValidation) {
  AgentConfig c;
  c.grpc_listen = "0.0.0.0:9748";
  auto errors = validate(c);
  ASSERT_EQ(errors.size(), 2u) << all_errors(errors);
  EXPECT_EQ(errors[0].key, "grpc_listen");
  EXPECT_EQ(errors[1].key, "api.tls_client_ca");
  c.api.tls_cert = "/c.pem";
  c.api.tls_key = "/k.pem";
  // TLS without client certificates: anyone who reaches the port would be a client.
  errors = validate(c);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "api.tls_client_ca");
  for (const char* named : {"grpc_listen", "api.tls_client_ca", "--tls-client-ca"}) {
    EXPECT_NE(errors[0].reason.find(named), std::string::npos) << errors[0].reason;
  }
  c.api.tls_client_ca = "/ca.pem";
  EXPECT_TRUE(validate(c).empty());
  c.api.allowed_clients = {"dns:controller.example", "uri:spiffe://c/ns/a/sa/b", "cn:ctl"};
  c.api.allowed_log_clients = {"uri:spiffe://c/ns/a/sa/logs"};
  EXPECT_TRUE(validate(c).empty());
  c.grpc_listen.clear();
  c.api.tls_client_ca.clear();
  errors = validate(c);
  ASSERT_EQ(errors.size(), 2u) << all_errors(errors);
  EXPECT_EQ(errors[1].key, "api.allowed_log_clients");
}

TEST(ConfigLoader, TypedIdentitiesLoadFromFileAndFlags) {
  AgentConfig c;
  auto errors = apply_yaml(c, R"(
api:
  allowed_clients: ["dns:controller.example", "uri:spiffe://cluster.local/ns/ng/sa/ctl"]
  allowed_log_clients: ["cn:log-reader"]
  allowed_log_uids: ["0", "1000"]
)",
                           "f");
  ASSERT_TRUE(errors.empty()) << all_errors(errors);
  EXPECT_EQ(c.api.allowed_clients[1], "uri:spiffe://cluster.local/ns/ng/sa/ctl");
  EXPECT_EQ(c.api.allowed_log_uids.size(), 2u);
  errors = apply_overrides(
      c, {{"api.allowed_clients", "dns:a.example,uri:spiffe://cluster.local/ns/ng/sa/ctl"}});
  ASSERT_TRUE(errors.empty()) << all_errors(errors);
  ASSERT_EQ(c.api.allowed_clients.size(), 2u);
  EXPECT_EQ(c.api.allowed_clients[1], "uri:spiffe://cluster.local/ns/ng/sa/ctl");
  errors = apply_overrides(c, {{"api.allowed_clients", "nodeguard-controller"}});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].where.find("allowed-clients"), std::string::npos) << errors[0].where;
  EXPECT_NE(errors[0].reason.find("dns:nodeguard-controller"), std::string::npos);
}

TEST(ConfigLoader, PrintedConfigLoadsBackToTheSameConfig) {
  AgentConfig c;
  ASSERT_TRUE(apply_yaml(c, R"(
node_name: "odd: name # with yaml chars"
routes:
  peers:
    - node_ip: 192.168.2.10
      blocks: [10.244.2.0/26, 10.244.3.0/26]
probes:
  tcp:
    - name: dns
      address: "10.96.0.10:53"
)",
                         "f")
                  .empty());
  const std::string printed = render_yaml(c, true);
  AgentConfig back;
  const auto errors = apply_yaml(back, printed, "printed");
  ASSERT_TRUE(errors.empty()) << all_errors(errors) << printed;
  EXPECT_EQ(render_yaml(back, true), printed);
  EXPECT_EQ(back.node_name, c.node_name);
  ASSERT_EQ(back.routes.peers.size(), 1u);
  EXPECT_EQ(back.routes.peers[0].blocks.size(), 2u);
  ASSERT_EQ(back.probes.tcp.size(), 1u);
  EXPECT_EQ(back.probes.tcp[0].address, "10.96.0.10:53");
}

TEST(ConfigLoader, EveryKeyHasAFlagAndADoc) {
  const auto keys = describe_keys();
  EXPECT_GT(keys.size(), 30u);
  std::set<std::string> flags;
  for (const auto& k : keys) {
    EXPECT_FALSE(k.doc.empty()) << k.path;
    EXPECT_TRUE(flags.insert(k.flag).second) << "duplicate flag " << k.flag;
  }
  EXPECT_TRUE(flags.count("dry-run"));
  EXPECT_TRUE(flags.count("grpc-socket"));
  EXPECT_TRUE(flags.count("netfilter-poll-interval"));
  const std::string md = render_reference_markdown();
  for (const auto& k : keys) EXPECT_NE(md.find("`" + k.path + "`"), std::string::npos) << k.path;
}

}  // namespace
}  // namespace ng::agent
