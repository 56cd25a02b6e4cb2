#include "agent/kube/kube_exporter.h"

#include <gtest/gtest.h>

#include "core/env_error_reporter.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_files.h"
#include "tests/fakes/fake_kube_api.h"
#include "tests/fakes/manual_executor.h"

namespace ng::agent::kube {
namespace {

using namespace std::chrono_literals;
using testing::FakeKubeApi;

class KubeExporterTest : public ::testing::Test {
 protected:
  testing::FakeClock clock_;
  prometheus::Registry registry_;
  HealthModel model_{clock_, registry_, 256};
  core::EnvErrorReporter env_errors_{registry_, core::Logger::discard()};
  testing::ManualExecutor workers_;
  testing::FakeFiles files_;
  FakeKubeApi* api_ = nullptr;
  std::unique_ptr<KubeExporter> exporter_;
  KubeConfig config_;

  void start(KubeConfig config = {}) {
    config_ = config;
    auto api = std::make_unique<FakeKubeApi>("node-a");
    api_ = api.get();
    KubeExporter::Options opt;
    opt.seed = 7;
    opt.settle = 60s;
    exporter_ = std::make_unique<KubeExporter>(
        config, "node-a", "/state", std::move(api), std::nullopt,
        KubeExporter::Deps{clock_, model_, env_errors_, registry_, core::Logger::discard(), model_,
                           workers_, files_},
        opt);
    exporter_->start();
  }
  // Lets the exporter talk until it is idle (answers delivered, timers due within `d` fired).
  void settle(core::Duration d = 1s) {
    for (int i = 0; i < 50; ++i) {
      api_->deliver_all();
      clock_.advance(d / 50);
    }
    api_->deliver_all();
    workers_.run_all();
  }
  // A judged condition: reported twice (the first report of an inactive condition is only a
  // declaration).
  void report(const std::string& type, bool active, const std::string& reason = "R",
              const std::string& message = "m") {
    model_.set_condition({type, active, reason, message, core::Severity::kWarning});
    model_.set_condition({type, active, reason, message, core::Severity::kWarning});
  }
  double counter(const std::string& name, std::map<std::string, std::string> labels) {
    for (const auto& f : registry_.Collect()) {
      if (f.name != name) continue;
      for (const auto& m : f.metric) {
        std::map<std::string, std::string> l;
        for (const auto& x : m.label) l[x.name] = x.value;
        if (l == labels)
          return f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
      }
    }
    return 0;
  }
};

TEST_F(KubeExporterTest, ReadsTheNodeFirstThenPatchesOnlyItsConditions) {
  report("DiskFull", true, "DiskFullSeen", "no space left on device");
  start();
  ASSERT_EQ(api_->requests.size(), 1u);
  EXPECT_EQ(api_->requests[0].verb, "GET");
  settle();
  const auto* c = api_->condition("DiskFull");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ((*c)["status"], "True");
  EXPECT_EQ((*c)["reason"], "DiskFullSeen");
  EXPECT_EQ((*c)["message"], "no space left on device");
  EXPECT_TRUE(c->contains("lastTransitionTime"));
  ASSERT_NE(api_->condition("Ready"), nullptr);  // kubelet's, untouched
  EXPECT_EQ((*api_->condition("Ready"))["reason"], "KubeletReady");
  const auto& patch = api_->requests.back();
  EXPECT_EQ(patch.path, "/api/v1/nodes/node-a/status");
  EXPECT_EQ(patch.content_type, "application/strategic-merge-patch+json");
  EXPECT_EQ(patch.body.find("Ready"), std::string::npos);
  EXPECT_EQ(counter("nodeguard_kube_api_requests_total", {{"verb", "patch"}, {"code", "200"}}), 1);
}

TEST_F(KubeExporterTest, TransitionTimeMovesOnlyOnStatusChangeHeartbeatRefreshes) {
  KubeConfig cfg;
  cfg.heartbeat = 5min;
  report("DiskFull", true);
  start(cfg);
  settle();
  std::string t0 = (*api_->condition("DiskFull"))["lastTransitionTime"];
  std::string h0 = (*api_->condition("DiskFull"))["lastHeartbeatTime"];
  size_t patches = api_->count("PATCH");
  clock_.advance(2min);
  report("DiskFull", true, "R", "m");  // same state: nothing to write yet
  settle();
  EXPECT_EQ(api_->count("PATCH"), patches);
  clock_.advance(3min);
  settle();
  EXPECT_EQ(api_->count("PATCH"), patches + 1);  // the heartbeat
  EXPECT_EQ((*api_->condition("DiskFull"))["lastTransitionTime"], t0);
  EXPECT_NE((*api_->condition("DiskFull"))["lastHeartbeatTime"], h0);
  report("DiskFull", false);
  settle();
  EXPECT_EQ((*api_->condition("DiskFull"))["status"], "False");
  EXPECT_NE((*api_->condition("DiskFull"))["lastTransitionTime"], t0);
}

TEST_F(KubeExporterTest, RestartKeepsConditionsNotJudgedYet) {
  // Before the restart the agent owned DiskFull and it was True on the Node.
  (void)files_.write_atomic("/state/kubernetes/owned-conditions", "DiskFull\n");
  KubeConfig cfg;
  cfg.carry_over = 10min;
  start(cfg);
  api_->node["status"]["conditions"].push_back({{"type", "DiskFull"},
                                                {"status", "True"},
                                                {"reason", "DiskFullSeen"},
                                                {"message", "before"},
                                                {"lastTransitionTime", "2027-01-01T00:00:00Z"}});
  // The logs component declares its conditions inactive at start: not a judgement.
  model_.set_condition({"DiskFull", false, "DiskHasSpace", "ok", core::Severity::kWarning});
  settle();
  EXPECT_EQ((*api_->condition("DiskFull"))["status"], "True");
  EXPECT_EQ((*api_->condition("DiskFull"))["message"], "before");
  // A real judgement wins, and moves the transition time.
  model_.set_condition({"DiskFull", true, "DiskFullSeen", "again", core::Severity::kWarning});
  settle();
  EXPECT_EQ((*api_->condition("DiskFull"))["message"], "again");
  EXPECT_EQ((*api_->condition("DiskFull"))["lastTransitionTime"], "2027-01-01T00:00:00Z");
}

TEST_F(KubeExporterTest, CarriedConditionExpiresAfterCarryOver) {
  (void)files_.write_atomic("/state/kubernetes/owned-conditions", "DiskFull\n");
  KubeConfig cfg;
  cfg.carry_over = 10min;
  start(cfg);
  api_->node["status"]["conditions"].push_back(
      {{"type", "DiskFull"}, {"status", "True"}, {"reason", "X"}, {"message", "before"}});
  model_.set_condition({"DiskFull", false, "DiskHasSpace", "ok", core::Severity::kWarning});
  settle();
  EXPECT_EQ((*api_->condition("DiskFull"))["status"], "True");
  clock_.advance(10min);
  settle();
  EXPECT_EQ((*api_->condition("DiskFull"))["status"], "False");
}

TEST_F(KubeExporterTest, RemovesOwnedTypesNoLongerExportedOnce) {
  (void)files_.write_atomic("/state/kubernetes/owned-conditions", "DiskFull\nOldProblem\n");
  KubeConfig cfg;
  cfg.conditions = {"DiskFull"};
  start(cfg);
  api_->node["status"]["conditions"].push_back(
      {{"type", "OldProblem"}, {"status", "True"}, {"reason", "X"}, {"message", "stale"}});
  api_->node["status"]["conditions"].push_back(
      {{"type", "SomeoneElses"}, {"status", "True"}, {"reason", "X"}, {"message", "theirs"}});
  report("DiskFull", false);
  settle();
  EXPECT_EQ(api_->condition("OldProblem"), nullptr);
  EXPECT_NE(api_->condition("SomeoneElses"), nullptr);
  EXPECT_NE(api_->condition("DiskFull"), nullptr);
  EXPECT_EQ(files_.read("/state/kubernetes/owned-conditions").value(), "DiskFull\n");
  size_t deletes = 0;
  for (const auto& r : api_->requests) deletes += r.body.find("$patch") != std::string::npos;
  EXPECT_EQ(deletes, 1u);
}

TEST_F(KubeExporterTest, RenamesAndFiltersConditions) {
  KubeConfig cfg;
  cfg.conditions = {"DiskFull=NodeguardDiskFull"};
  report("DiskFull", true);
  report("BGPPeerDown", true);
  start(cfg);
  settle();
  EXPECT_NE(api_->condition("NodeguardDiskFull"), nullptr);
  EXPECT_EQ(api_->condition("DiskFull"), nullptr);
  EXPECT_EQ(api_->condition("BGPPeerDown"), nullptr);
}

TEST_F(KubeExporterTest, EventsAggregateByReasonAndMessage) {
  start();
  settle();
  for (int i = 0; i < 3; ++i) {
    model_.record_event(
        {"netfilter", "NetfilterRepaired", "restored nat", core::Severity::kInfo, {}});
  }
  settle();
  ASSERT_EQ(api_->events.size(), 1u);
  auto ev = api_->events.begin()->second;
  EXPECT_EQ(ev["involvedObject"]["kind"], "Node");
  EXPECT_EQ(ev["involvedObject"]["name"], "node-a");
  EXPECT_EQ(ev["source"]["component"], "nodeguard");
  EXPECT_EQ(ev["reportingComponent"], "nodeguard");
  EXPECT_EQ(ev["type"], "Normal");
  EXPECT_EQ(ev["count"], 3);
  EXPECT_EQ(api_->count("POST", "/events"), 1u);
  model_.record_event(
      {"netfilter", "NetfilterRepaired", "restored nat", core::Severity::kInfo, {}});
  settle();
  EXPECT_EQ(api_->events.size(), 1u);
  EXPECT_EQ(api_->events.begin()->second["count"], 4);
}

TEST_F(KubeExporterTest, ApiDownKeepsNewestStateBoundedThenFlushesWithoutFlood) {
  KubeConfig cfg;
  cfg.unreachable_after = 30s;
  cfg.events.max_pending = 5;
  cfg.events.burst = 3;
  cfg.events.refill_interval = 1s;
  start(cfg);
  settle();
  api_->down = true;
  report("DiskFull", true);
  settle(5s);
  report("DiskFull", false);
  report("DiskFull", true, "R", "newest");
  for (int i = 0; i < 10; ++i) {
    model_.record_event(
        {"logs", "OOMKilling", "oom " + std::to_string(i), core::Severity::kWarning, {}});
  }
  for (int i = 0; i < 20; ++i) {
    model_.record_event({"logs", "OOMKilling", "oom 9", core::Severity::kWarning, {}});
  }
  settle(40s);
  EXPECT_TRUE(model_.conditions().at(kUnreachableCondition).active);
  EXPECT_EQ(exporter_->status().state, core::ComponentState::kDegraded);
  EXPECT_LE(exporter_->pending_events(), 5u);
  EXPECT_GT(counter("nodeguard_kube_events_dropped_total", {}), 0);
  EXPECT_GT(counter("nodeguard_kube_api_requests_total", {{"verb", "patch"}, {"code", "error"}}),
            0);
  const size_t before = api_->requests.size();
  api_->down = false;
  settle(60s);
  EXPECT_EQ((*api_->condition("DiskFull"))["message"], "newest");
  EXPECT_FALSE(model_.conditions().at(kUnreachableCondition).active);
  EXPECT_EQ(exporter_->pending_events(), 0u);
  // One status patch, at most max_pending events (+ the model's condition-flip events), a few
  // retries: no replay of every old state.
  EXPECT_LT(api_->requests.size() - before, 15u);
  bool found = false;
  for (const auto& [n, ev] : api_->events)
    found = found || (ev["message"] == "oom 9" && ev["count"] == 21);
  EXPECT_TRUE(found);
}

TEST_F(KubeExporterTest, HonoursRetryAfter) {
  report("DiskFull", true);
  start();
  api_->fail_next = {429};
  api_->retry_after = 20s;
  api_->deliver_all();
  const size_t after_429 = api_->requests.size();
  clock_.advance(19s);
  api_->deliver_all();
  EXPECT_EQ(api_->requests.size(), after_429);
  clock_.advance(2s);
  settle();
  EXPECT_NE(api_->condition("DiskFull"), nullptr);
  EXPECT_EQ(counter("nodeguard_kube_api_requests_total", {{"verb", "get"}, {"code", "429"}}), 1);
}

TEST_F(KubeExporterTest, TaintsFollowTheConditionAndLeaveOthersAlone) {
  KubeConfig cfg;
  cfg.taints = {"DiskFull=NoSchedule"};
  report("DiskFull", true);
  start(cfg);
  settle();
  EXPECT_EQ(api_->taint_keys(), (std::vector<std::string>{"other/team", "nodeguard.io/DiskFull"}));
  report("DiskFull", false);
  settle();
  EXPECT_EQ(api_->taint_keys(), (std::vector<std::string>{"other/team"}));
}

TEST_F(KubeExporterTest, ATaintRemovedByHandComesBackByTheNextHeartbeat) {
  KubeConfig cfg;
  cfg.taints = {"DiskFull=NoSchedule"};
  cfg.heartbeat = 1min;
  report("DiskFull", true);
  start(cfg);
  settle();
  api_->node["spec"]["taints"] = nlohmann::json::array();
  api_->bump();
  clock_.advance(1min);
  settle();
  EXPECT_EQ(api_->taint_keys(), (std::vector<std::string>{"nodeguard.io/DiskFull"}));
}

TEST_F(KubeExporterTest, TaintConflictIsRetriedWithAFreshRead) {
  KubeConfig cfg;
  cfg.taints = {"DiskFull=NoExecute"};
  report("DiskFull", true);
  start(cfg);
  api_->conflicts = 2;
  settle();
  EXPECT_EQ(api_->taint_keys(), (std::vector<std::string>{"other/team", "nodeguard.io/DiskFull"}));
  EXPECT_EQ(counter("nodeguard_kube_api_requests_total", {{"verb", "patch"}, {"code", "409"}}), 2);
}

TEST_F(KubeExporterTest, OffWithoutConfigFailedWhenAskedForAndMissing) {
  KubeExporter::Deps deps{clock_, model_,   env_errors_, registry_, core::Logger::discard(),
                          model_, workers_, files_};
  KubeExporter off(KubeConfig{}, "n", "/state", nullptr, std::nullopt, deps);
  off.start();
  EXPECT_EQ(off.status().state, core::ComponentState::kDisabled);
  KubeConfig on;
  on.enabled = "true";
  KubeExporter missing(on, "n", "/state", nullptr,
                       core::EnvError{core::EnvErrorKind::kNotFound, "no token"}, deps);
  missing.start();
  EXPECT_EQ(missing.status().state, core::ComponentState::kFailed);
  EXPECT_NE(missing.status().message.find("no token"), std::string::npos);
  // No series while off: a dashboard must not read "unreachable" on nodes without the exporter.
  for (const auto& f : registry_.Collect()) {
    if (f.name == "nodeguard_kube_api_reachable") {
      EXPECT_TRUE(f.metric.empty());
    }
  }
}

TEST_F(KubeExporterTest, LongEventMessagesAreCutToValidUtf8) {
  start();
  settle();
  std::string msg(1023, 'x');
  msg += "\xc3\xa9 and more";  // a 2-byte character across the 1 KiB cut
  model_.record_event({"logs", "Long", msg, core::Severity::kWarning, {}});
  settle();
  ASSERT_EQ(api_->events.size(), 1u);
  std::string sent = api_->events.begin()->second["message"];
  EXPECT_LE(sent.size(), 1026u);
  EXPECT_EQ(sent.substr(0, 1023), std::string(1023, 'x'));
}

TEST(CodeLabel, IsBounded) {
  EXPECT_EQ(code_label(0), "error");
  EXPECT_EQ(code_label(409), "409");
  EXPECT_EQ(code_label(418), "4xx");
  EXPECT_EQ(code_label(504), "5xx");
  EXPECT_EQ(code_label(999), "other");
}

}  // namespace
}  // namespace ng::agent::kube
