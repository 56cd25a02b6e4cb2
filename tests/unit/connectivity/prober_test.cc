#include "probes/connectivity/prober.h"

#include <gtest/gtest.h>

#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_probe_transport.h"
#include "tests/fakes/recording_health_sink.h"
#include "tests/support/metric_values.h"

namespace ng::probes::connectivity {
namespace {

using namespace std::chrono_literals;

class ProberTest : public ::testing::Test {
 protected:
  void make() {
    auto t = std::make_unique<testing::FakeProbeTransport>();
    transport_ = t.get();
    prober_ = std::make_unique<Prober>(
        config_, std::move(t),
        Prober::Deps{clock_, health_, env_errors_, registry_, core::Logger::discard()});
  }
  double counter(const std::string& name, const std::map<std::string, std::string>& labels) {
    return std::max(0.0, testing::metric_value(registry_, name, labels));
  }
  std::uint64_t histogram_count(const std::string& target) {
    return static_cast<std::uint64_t>(
        std::max(0.0, testing::metric_value(registry_, "nodeguard_probe_duration_seconds",
                                            {{"target", target}})));
  }

  ProbesConfig config_;
  testing::FakeClock clock_;
  prometheus::Registry registry_;
  testing::RecordingHealthSink health_;
  core::EnvErrorReporter env_errors_{registry_, core::Logger::discard()};
  testing::FakeProbeTransport* transport_ = nullptr;
  std::unique_ptr<Prober> prober_;
};

TEST_F(ProberTest, ExternalUnreachableAfterThreshold) {
  config_.tcp = {{"registry", "203.0.113.10:443", "external"},
                 {"api", "10.0.0.1:6443", "external"}};
  config_.failure_threshold = 2;
  config_.interval = 10s;
  make();
  transport_->outcomes["10.0.0.1:6443"] = {true, "", "connected", 3ms};
  transport_->outcomes["203.0.113.10:443"] = {false, "timeout",
                                              "connect 203.0.113.10:443: no answer", 2s};
  prober_->start();
  EXPECT_FALSE(health_.active("ExternalUnreachable"));  // one failure is not enough
  clock_.advance(10s);
  ASSERT_TRUE(health_.active("ExternalUnreachable"));
  const auto& c = health_.conditions.at("ExternalUnreachable");
  EXPECT_NE(c.message.find("registry (tcp 203.0.113.10:443)"), std::string::npos) << c.message;
  EXPECT_NE(c.message.find("firewall"), std::string::npos);
  EXPECT_EQ(counter("nodeguard_probe_failures_total",
                    {{"target", "registry"}, {"reason", "timeout"}, {"kind", "external"}}),
            2);
  EXPECT_EQ(counter("nodeguard_probes_total", {{"target", "registry"}}), 2);
  EXPECT_EQ(histogram_count("api"), 2u);
  EXPECT_EQ(histogram_count("registry"), 0u);
  // Recovery clears it.
  transport_->outcomes["203.0.113.10:443"] = {true, "", "connected", 5ms};
  clock_.advance(10s);
  EXPECT_FALSE(health_.active("ExternalUnreachable"));
  EXPECT_EQ(prober_->targets()[0].consecutive_failures, 0);
  EXPECT_EQ(prober_->targets()[0].failures, 2u);
}

TEST_F(ProberTest, PeerAndPodKindsHaveTheirOwnConditions) {
  config_.tcp = {{"node-c", "192.168.2.10:179", "peer"}, {"pod-c", "10.244.3.2:8080", "pod"}};
  config_.failure_threshold = 1;
  make();
  transport_->outcomes["192.168.2.10:179"] = {true, "", "ok", 1ms};
  prober_->start();
  EXPECT_FALSE(health_.active("PeerUnreachable"));
  EXPECT_TRUE(health_.active("PodUnreachable"));
  EXPECT_EQ(health_.conditions.count("ExternalUnreachable"), 0u);  // no external targets
}

TEST_F(ProberTest, HungProbesDoNotStack) {
  config_.tcp = {{"slow", "10.0.0.9:80", "external"}};
  config_.interval = 1s;
  make();
  transport_->immediate = false;
  prober_->start();
  clock_.advance(5s);
  EXPECT_EQ(transport_->calls.size(), 1u);
  transport_->complete_all();
  clock_.advance(1s);
  EXPECT_EQ(transport_->calls.size(), 2u);
  prober_->stop();
  EXPECT_GE(transport_->cancels, 1);
  clock_.advance(5s);
  EXPECT_EQ(transport_->calls.size(), 2u);
}

TEST_F(ProberTest, IcmpNotPermittedIsSkippedNotAFailure) {
  config_.icmp = {{"gw", "192.168.1.1", "external"}};
  config_.failure_threshold = 1;
  make();
  transport_->outcomes["192.168.1.1"] = {
      false, "permission", "ping 192.168.1.1: not permitted", {}};
  prober_->start();
  clock_.advance(30s);
  EXPECT_EQ(transport_->calls.size(), 1u);
  EXPECT_TRUE(prober_->targets()[0].skipped);
  EXPECT_FALSE(health_.active("ExternalUnreachable"));
  EXPECT_EQ(prober_->status().state, core::ComponentState::kDegraded);
  EXPECT_TRUE(env_errors_.has_error("probes"));
}

TEST_F(ProberTest, IcmpEchoAndBadAddresses) {
  config_.icmp = {{"gw", "192.168.1.1", "peer"}};
  config_.tcp = {{"bad", ":80", "external"}};
  config_.failure_threshold = 1;
  make();
  transport_->outcomes["192.168.1.1"] = {true, "", "echo reply", 1ms};
  prober_->start();
  EXPECT_FALSE(health_.active("PeerUnreachable"));
  EXPECT_EQ(histogram_count("gw"), 1u);
  EXPECT_TRUE(health_.active("ExternalUnreachable"));  // ":80" has no host: counted as an error
  EXPECT_EQ(counter("nodeguard_probe_failures_total", {{"target", "bad"}, {"reason", "error"}}), 1);
}

TEST_F(ProberTest, Disabled) {
  config_.enabled = false;
  config_.tcp = {{"a", "10.0.0.1:1", "external"}};
  make();
  prober_->start();
  EXPECT_EQ(prober_->status().state, core::ComponentState::kDisabled);
  EXPECT_TRUE(transport_->calls.empty());
}

}  // namespace
}  // namespace ng::probes::connectivity
