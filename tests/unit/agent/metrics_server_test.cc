#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "agent/metrics/metrics_server.h"
#include "agent/metrics/process_collector.h"
#include "tests/support/http_get.h"

namespace ng::agent {
namespace {

TEST(MetricsServer, ServesMetricsHealthzReadyzOnLoopback) {
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter()
      .Name("nodeguard_test_total")
      .Help("t")
      .Register(*registry)
      .Add({})
      .Increment();
  auto process = std::make_shared<ProcessCollector>();
  auto build = std::make_shared<BuildInfoCollector>();
  bool ready = false;
  ProbeAnswers answers;
  answers.healthy = [] { return true; };
  answers.ready = [&ready] { return std::pair<bool, std::string>{ready, "netfilter: starting\n"}; };
  MetricsServer server(
      std::vector<std::weak_ptr<prometheus::Collectable>>{registry, process, build}, answers,
      core::Logger::discard());
  auto port = server.start("127.0.0.1:0");
  ASSERT_TRUE(port) << port.error().message;
  ASSERT_GT(*port, 0);

  auto m = testing::http_get(*port, "/metrics");
  EXPECT_EQ(m.status, 200);
  for (const char* name :
       {"nodeguard_test_total 1", "nodeguard_build_info{", "process_cpu_seconds_total",
        "process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds"}) {
    EXPECT_NE(m.body.find(name), std::string::npos) << name;
  }
  EXPECT_EQ(testing::http_get(*port, "/healthz").status, 200);
  auto r = testing::http_get(*port, "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("netfilter: starting"), std::string::npos);
  ready = true;
  EXPECT_EQ(testing::http_get(*port, "/readyz").status, 200);
  EXPECT_EQ(testing::http_request(*port, "POST", "/metrics").status, 405);
  EXPECT_EQ(testing::http_get(*port, "/nothing").status, 404);
  server.stop();
  EXPECT_EQ(testing::http_get(*port, "/healthz").status, 0);
}

TEST(MetricsServer, UnhealthyLoopGives503) {
  ProbeAnswers answers;
  answers.healthy = [] { return false; };
  MetricsServer server({}, answers, core::Logger::discard());
  auto port = server.start("127.0.0.1:0");
  ASSERT_TRUE(port);
  EXPECT_EQ(testing::http_get(*port, "/healthz").status, 503);
  EXPECT_EQ(testing::http_get(*port, "/readyz").status, 503);
}

TEST(MetricsServer, PortInUseIsAnEnvironmentError) {
  MetricsServer a({}, {}, core::Logger::discard());
  auto port = a.start("127.0.0.1:0");
  ASSERT_TRUE(port);
  MetricsServer b({}, {}, core::Logger::discard());
  auto again = b.start("127.0.0.1:" + std::to_string(*port));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, core::EnvErrorKind::kUnavailable);
}

}  // namespace
}  // namespace ng::agent
