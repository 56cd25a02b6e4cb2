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

TEST_F(HealthModelTest, SinceIsTheFirstReportAndHeartbeatTheLast) {
  const auto t0 = clock_.wall_now();
  model_.set_condition({"NetfilterDrift", false, "InSync", "", core::Severity::kWarning});
  clock_.advance(3s);
  model_.set_condition({"NetfilterDrift", true, "RulesMissing", "", core::Severity::kWarning});
  clock_.advance(4s);
  model_.set_condition({"NetfilterDrift", true, "RulesMissing", "", core::Severity::kWarning});
  const auto& c = model_.conditions().at("NetfilterDrift");
  EXPECT_EQ(c.since, t0);
  EXPECT_EQ(c.last_transition, t0 + 3s);
  EXPECT_EQ(c.last_update, t0 + 7s);
}

TEST_F(HealthModelTest, ATypeThatFlipsBackAndForthKeepsOneConditionAndCountsEachFlip) {
  for (int i = 0; i < 6; ++i) {
    model_.set_condition({"BGPPeerDown", i % 2 == 0, "R", "", core::Severity::kError});
  }
  EXPECT_EQ(model_.conditions().size(), 1u);
  EXPECT_EQ(model_.last_seq(), 6u);  // on, off, on, off, on, off
  EXPECT_EQ(gauge("BGPPeerDown", "true"), 0);
}

TEST_F(HealthModelTest, VerdictReasonsListErrorsBeforeWarnings) {
  EXPECT_TRUE(model_.verdict_reasons({}).empty());
  model_.set_condition({"Warn", true, "W", "warn message", core::Severity::kWarning});
  model_.set_condition({"Info", true, "I", "", core::Severity::kInfo});
  model_.set_condition({"Err", true, "E", "", core::Severity::kError});
  std::vector<core::NamedStatus> comps = {
      {"bgp", {core::ComponentState::kDegraded, "BIRD socket missing", {}}},
      {"logs", {core::ComponentState::kRunning, "", {}}},
      {"routes", {core::ComponentState::kFailed, "", {}}}};
  const auto reasons = model_.verdict_reasons(comps);
  ASSERT_EQ(reasons.size(), 4u);
  EXPECT_EQ(reasons[0], "condition Err (error): E");  // no message: the reason stands in
  EXPECT_EQ(reasons[1], "component routes failed");
  EXPECT_EQ(reasons[2], "condition Warn (warning): warn message");
  EXPECT_EQ(reasons[3], "component bgp degraded: BIRD socket missing");
}

TEST_F(HealthModelTest, LastRepairFollowsTheConventionAndOutlivesTheRing) {
  model_.record_event({"netfilter", "DriftDetected", "", {}, {}});
  EXPECT_FALSE(model_.last_repair().has_value());
  model_.record_event({"netfilter", "DriftRepaired", "put back 2 rules", {}, {}});
  model_.record_event({"netfilter", "RepairFailed", "", {}, {}});
  model_.record_event({"netfilter", "RepairSkippedDryRun", "", {}, {}});
  ASSERT_TRUE(model_.last_repair().has_value());
  EXPECT_EQ(model_.last_repair()->seq, 2u);
  for (int i = 0; i < 10; ++i) model_.record_event({"bgp", "BGPPeerDown", "", {}, {}});
  EXPECT_GT(model_.oldest_seq(), 2u);  // dropped from the ring
  ASSERT_TRUE(model_.last_repair().has_value());
  EXPECT_EQ(model_.last_repair()->event.reason, "DriftRepaired");
}

TEST(RepairEvents, Convention) {
  auto ev = [](std::string reason, std::map<std::string, std::string> attrs = {}) {
    return core::HealthEvent{"netfilter", std::move(reason), "", core::Severity::kInfo,
                             std::move(attrs)};
  };
  EXPECT_TRUE(is_repair_event(ev("DriftRepaired")));
  EXPECT_TRUE(is_repair_event(ev("RepairApplied")));
  EXPECT_TRUE(is_repair_event(ev("HostPortRulesRestored")));
  EXPECT_FALSE(is_repair_event(ev("RepairFailed")));
  EXPECT_FALSE(is_repair_event(ev("RepairSkipped")));
  EXPECT_FALSE(is_repair_event(ev("RepairDryRun")));
  EXPECT_FALSE(is_repair_event(ev("WouldRepair")));
  EXPECT_FALSE(is_repair_event(ev("DriftDetected")));
  EXPECT_TRUE(is_repair_event(ev("ChainsRebuilt", {{"repair", "applied"}})));
  EXPECT_FALSE(is_repair_event(ev("DriftRepaired", {{"repair", "dry-run"}})));
}

TEST_F(HealthModelTest, RecentEventsAreTheNewestOldestFirst) {
  for (int i = 0; i < 6; ++i) model_.record_event({"x", "E" + std::to_string(i), "", {}, {}});
  auto r = model_.recent_events(2);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].event.reason, "E4");
  EXPECT_EQ(r[1].event.reason, "E5");
  EXPECT_EQ(model_.recent_events(100).size(), 4u);  // the ring's capacity
  EXPECT_TRUE(model_.recent_events(0).empty());
}

}  // namespace
}  // namespace ng::agent
