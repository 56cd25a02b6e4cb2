#include <gtest/gtest.h>

#include "agent/health/health_model.h"
#include "tests/fakes/fake_clock.h"

namespace ng::agent {
namespace {

using namespace std::chrono_literals;

class HealthModelTest : public ::testing::Test {
 protected:
  testing::FakeClock clock_;
  prometheus::Registry registry_;
  HealthModel model_{clock_, registry_, 4};

  double gauge(const std::string& type, const std::string& status) {
    for (const auto& f : registry_.Collect()) {
      if (f.name != "nodeguard_condition") continue;
      for (const auto& m : f.metric) {
        std::map<std::string, std::string> l;
        for (const auto& x : m.label) l[x.name] = x.value;
        if (l["type"] == type && l["status"] == status) return m.gauge.value;
      }
    }
    return -1;
  }
};

TEST_F(HealthModelTest, TransitionTimeMovesOnlyWhenStatusFlips) {
  model_.set_condition(
      {"PodRouteViaGateway", true, "NextHopIsGateway", "m1", core::Severity::kError});
  const auto t0 = model_.conditions().at("PodRouteViaGateway").last_transition;
  clock_.advance(5s);
  model_.set_condition(
      {"PodRouteViaGateway", true, "NextHopIsGateway", "m2", core::Severity::kError});
  EXPECT_EQ(model_.conditions().at("PodRouteViaGateway").last_transition, t0);
  EXPECT_EQ(model_.conditions().at("PodRouteViaGateway").message, "m2");
  clock_.advance(5s);
  model_.set_condition(
      {"PodRouteViaGateway", false, "RoutesHealthy", "ok", core::Severity::kError});
  EXPECT_EQ(model_.conditions().at("PodRouteViaGateway").last_transition, t0 + 10s);
  EXPECT_EQ(gauge("PodRouteViaGateway", "true"), 0);
  EXPECT_EQ(gauge("PodRouteViaGateway", "false"), 1);
}

TEST_F(HealthModelTest, ActivationAndClearingAreEventsButAnInitialFalseIsNot) {
  model_.set_condition({"BGPPeerDown", false, "AllEstablished", "", core::Severity::kError});
  EXPECT_EQ(model_.last_seq(), 0u);
  model_.set_condition(
      {"BGPPeerDown", true, "SessionActive", "peer 1 down", core::Severity::kError});
  model_.set_condition({"BGPPeerDown", false, "AllEstablished", "", core::Severity::kError});
  const auto ev = model_.events_after(0);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].event.reason, "BGPPeerDown");
  EXPECT_EQ(ev[1].event.reason, "BGPPeerDownCleared");
}

TEST_F(HealthModelTest, VerdictRules) {
  EXPECT_EQ(model_.verdict({}), Verdict::kHealthy);
  model_.set_condition({"Info", true, "r", "", core::Severity::kInfo});
  EXPECT_EQ(model_.verdict({}), Verdict::kHealthy);
  model_.set_condition({"Warn", true, "r", "", core::Severity::kWarning});
  EXPECT_EQ(model_.verdict({}), Verdict::kDegraded);
  model_.set_condition({"Err", true, "r", "", core::Severity::kError});
  EXPECT_EQ(model_.verdict({}), Verdict::kUnhealthy);
  model_.set_condition({"Err", false, "r", "", core::Severity::kError});
  model_.set_condition({"Warn", false, "r", "", core::Severity::kWarning});
  EXPECT_EQ(model_.verdict({{core::ComponentState::kDegraded, "", {}}}), Verdict::kDegraded);
  EXPECT_EQ(model_.verdict({{core::ComponentState::kFailed, "", {}}}), Verdict::kUnhealthy);
}

TEST_F(HealthModelTest, EventRingIsBoundedAndReportsTruncation) {
  for (int i = 0; i < 10; ++i) model_.record_event({"netfilter", "DriftRepaired", "", {}, {}});
  bool truncated = false;
  auto ev = model_.events_after(0, &truncated);
  EXPECT_TRUE(truncated);
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev.front().seq, 7u);
  ev = model_.events_after(8, &truncated);
  EXPECT_FALSE(truncated);
  EXPECT_EQ(ev.size(), 2u);
}

TEST_F(HealthModelTest, ListenersSeeEventsAndMayUnsubscribeInside) {
  int seen = 0;
  int id = 0;
  id = model_.subscribe([&](const RecordedEvent&) {
    ++seen;
    model_.unsubscribe(id);
  });
  model_.record_event({"x", "A", "", {}, {}});
  model_.record_event({"x", "B", "", {}, {}});
  EXPECT_EQ(seen, 1);
}

}  // namespace
}  // namespace ng::agent
