#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "agent/kube/backoff.h"
#include "agent/kube/kube_config.h"
#include "agent/kube/kube_connection.h"
#include "agent/kube/node_json.h"
#include "tests/fakes/fake_files.h"

namespace ng::agent::kube {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

TEST(NodeJson, ParsesConditionsTaintsAndResourceVersion) {
  auto v = parse_node(R"({"kind":"Node","metadata":{"name":"n","resourceVersion":"42"},
    "spec":{"taints":[{"key":"a","effect":"NoSchedule","value":"x"}]},
    "status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady",
      "lastTransitionTime":"2026-01-01T00:00:00Z"}]}})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->resource_version, "42");
  EXPECT_EQ(v->conditions.at("Ready").last_transition_time, "2026-01-01T00:00:00Z");
  ASSERT_EQ(v->taints.size(), 1u);
  EXPECT_EQ(v->taints[0].value, "x");
}

TEST(NodeJson, RejectsWhatIsNotANode) {
  EXPECT_FALSE(parse_node("not json").ok());
  EXPECT_FALSE(parse_node(R"({"kind":"Status"})").ok());
  EXPECT_FALSE(parse_node("[1,2]").ok());
  // Odd shapes inside a Node are skipped, not fatal.
  auto v = parse_node(R"({"kind":"Node","metadata":{},"status":{"conditions":[1,{"x":2}]},
    "spec":{"taints":"no"}})");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->conditions.empty());
}

TEST(NodeJson, ConditionsPatchMergesByTypeAndDeletes) {
  auto p = json::parse(conditions_patch({{"DiskFull", "True", "R", "m", "t1", "t0"}}, {"Old"}));
  const auto& list = p["status"]["conditions"];
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["type"], "DiskFull");
  EXPECT_EQ(list[0]["lastHeartbeatTime"], "t1");
  EXPECT_EQ(list[1], json({{"type", "Old"}, {"$patch", "delete"}}));
}

TEST(NodeJson, ReconcileTaintsTouchesOnlyOurPrefix) {
  std::vector<Taint> cur = {{"x/a", "", "NoSchedule", ""},
                            {"nodeguard.io/Old", "", "NoSchedule", ""}};
  auto next = reconcile_taints(cur, {{"nodeguard.io/New", "NoExecute"}}, "nodeguard.io/", "T");
  ASSERT_TRUE(next);
  ASSERT_EQ(next->size(), 2u);
  EXPECT_EQ((*next)[0].key, "x/a");
  EXPECT_EQ((*next)[1].key, "nodeguard.io/New");
  EXPECT_EQ((*next)[1].time_added, "T");  // NoExecute taints carry timeAdded
  EXPECT_FALSE(reconcile_taints(*next, {{"nodeguard.io/New", "NoExecute"}}, "nodeguard.io/", "T"));
  auto patch = json::parse(taints_patch(*next, "7"));
  EXPECT_EQ(patch["metadata"]["resourceVersion"], "7");
  EXPECT_EQ(patch["spec"]["taints"].size(), 2u);
  EXPECT_EQ(json::parse(taints_patch({}, "7"))["spec"]["taints"], json::array());
}

TEST(NodeJson, EventBodyIsKubeletShaped) {
  NodeEvent e{"n.1", "n", "NetfilterRepaired", "m \xff", "Normal", 2, "t0", "t1"};
  auto j = json::parse(event_body(e, "n"));  // invalid UTF-8 replaced, still JSON
  EXPECT_EQ(j["involvedObject"]["kind"], "Node");
  EXPECT_EQ(j["source"]["component"], "nodeguard");
  EXPECT_EQ(j["count"], 2);
  EXPECT_EQ(rfc3339(std::chrono::system_clock::from_time_t(0)), "1970-01-01T00:00:00Z");
}

TEST(Backoff, GrowsWithJitterCapsAndHonoursRetryAfter) {
  Backoff b(1s, 8s, 1);
  auto d1 = b.next();
  EXPECT_GE(d1, 500ms);
  EXPECT_LE(d1, 1s);
  b.next();
  b.next();
  for (int i = 0; i < 10; ++i) EXPECT_LE(b.next(), 8s);
  EXPECT_GE(b.next(30s), 30s);
  EXPECT_LE(b.next(10h), 80s);
  b.reset();
  EXPECT_LE(b.next(), 1s);
}

TEST(KubeConfigEntries, NameTheProblem) {
  EXPECT_FALSE(condition_entry_error("DiskFull"));
  EXPECT_FALSE(condition_entry_error("DiskFull=NodeDiskFull"));
  EXPECT_TRUE(condition_entry_error("Disk Full"));
  EXPECT_FALSE(taint_entry_error("DiskFull=NoExecute"));
  EXPECT_TRUE(taint_entry_error("DiskFull"));
  EXPECT_NE(taint_entry_error("DiskFull=PreferNoSchedule")->find("NoSchedule or NoExecute"),
            std::string::npos);
}

TEST(KubeConnection, InClusterReadsTheServiceAccount) {
  testing::FakeFiles files;
  (void)files.write_atomic("/sa/token", "tok");
  (void)files.write_atomic("/sa/ca.crt", "CA");
  auto env = [](const std::string& k) -> std::optional<std::string> {
    if (k == "KUBERNETES_SERVICE_HOST") return "10.96.0.1";
    if (k == "KUBERNETES_SERVICE_PORT") return "443";
    return std::nullopt;
  };
  auto c = in_cluster_connection(env, files, "/sa");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "10.96.0.1");
  EXPECT_EQ(c->token_file, "/sa/token");
  EXPECT_EQ(c->ca_pem, "CA");
  auto none = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  EXPECT_FALSE(in_cluster_connection(none, files, "/sa").ok());
  auto sel = select_connection("auto", "", none, files);
  EXPECT_FALSE(sel.connection);
  EXPECT_FALSE(sel.error);  // auto with nothing configured: simply off
  EXPECT_TRUE(select_connection("true", "", none, files).error);
}

TEST(KubeConnection, KubeconfigCurrentContext) {
  testing::FakeFiles files;
  (void)files.write_atomic("/k/ca.pem", "CAFILE");
  const std::string text = R"(
apiVersion: v1
kind: Config
current-context: b
clusters:
- name: ca
  cluster: {server: "https://a:1"}
- name: cb
  cluster:
    server: https://[::1]:6443/
    certificate-authority: ca.pem
contexts:
- {name: a, context: {cluster: ca, user: ua}}
- {name: b, context: {cluster: cb, user: ub}}
users:
- {name: ub, user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ}}
)";
  auto c = parse_kubeconfig(text, "/k/config", files);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, "6443");
  EXPECT_EQ(c->ca_pem, "CAFILE");
  EXPECT_EQ(c->client_cert_pem, "CERT");
  EXPECT_EQ(c->client_key_pem, "KEY");
  auto bad = parse_kubeconfig("current-context: x\ncontexts: []\n", "/k/config", files);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("current-context \"x\""), std::string::npos);
  auto http = parse_kubeconfig(
      "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\n"
      "clusters: [{name: c, cluster: {server: 'http://x'}}]\n",
      "/k/config", files);
  ASSERT_FALSE(http.ok());
  EXPECT_NE(http.error().message.find("server must be https"), std::string::npos);
}

TEST(KubeConnection, ServerUrl) {
  EXPECT_EQ(parse_server_url("https://h"),
            std::make_optional(std::make_pair(std::string("h"), std::string("443"))));
  EXPECT_FALSE(parse_server_url("https://h:x"));
  EXPECT_FALSE(parse_server_url("http://h"));
  EXPECT_EQ(base64_decode("aGVsbG8="), std::optional<std::string>("hello"));
  EXPECT_FALSE(base64_decode("a*b"));
}

}  // namespace
}  // namespace ng::agent::kube
