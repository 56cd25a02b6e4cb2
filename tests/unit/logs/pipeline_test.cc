#include "probes/logs/log_pipeline.h"

#include <gtest/gtest.h>

#include "tests/fakes/fake_clock.h"
#include "tests/fakes/recording_health_sink.h"

namespace ng::probes::logs {
namespace {

using namespace std::chrono_literals;

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RuleSet set;
    parse_rule_file(R"({"conditions":[{"type":"DiskFull","reason":"DiskOK","message":"fine"}],
      "rules":[{"type":"temporary","reason":"Oops","pattern":"oops"},
               {"type":"permanent","condition":"DiskFull","reason":"NoSpace","pattern":"no space"}]})",
                    "t.json", set);
    std::vector<std::string> errors;
    auto m = RuleMatcher::compile(set.rules, &errors);
    PipelineOptions o;
    o.condition_clear_after = 10min;
    p = std::make_unique<LogPipeline>(std::move(set), std::move(m), metrics, health, clock,
                                      core::Logger::discard(), o);
  }

  void line(std::string_view msg, SourceKind k = SourceKind::kContainer) {
    LineMeta m;
    m.kind = k;
    m.pod = &pod;
    m.path = &path;
    p->on_line(m, msg);
  }

  testing::FakeClock clock;
  testing::RecordingHealthSink health;
  prometheus::Registry registry;
  LogMetrics metrics{registry};
  std::unique_ptr<LogPipeline> p;
  PodRef pod{"prod", "web", "uid", "app"};
  std::string path = "/var/log/containers/web.log";
};

struct EveryLine final : LogSubscriber {
  const LogFilter& filter() const override { return f; }
  void deliver(const LineMeta&, std::string_view, std::chrono::system_clock::time_point) override {}
  LogFilter f;
};

// Lines without a prefilter hit are only counted (the decoder skips handing them on), unless a
// TailLogs stream wants every line.
TEST_F(PipelineTest, QuietLinesAreCountedAndStreamsSeeEveryLine) {
  const std::string raw = "all good\noops here\n";
  p->begin_chunk(SourceKind::kContainer, raw);
  const auto* hits = p->quiet_hits();
  ASSERT_NE(hits, nullptr);
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0], raw.find("oops") + 4);
  p->count_quiet(SourceKind::kContainer, 1);
  line("oops here");
  p->end_chunk();
  p->on_batch_end();
  EXPECT_EQ(metrics.lines(SourceKind::kContainer).Value(), 2);
  EXPECT_EQ(p->take_staged().size(), 1u);

  auto stream = std::make_shared<EveryLine>();
  p->add_subscriber(stream);
  p->begin_chunk(SourceKind::kContainer, raw);
  EXPECT_EQ(p->quiet_hits(), nullptr);
  p->end_chunk();
  p->remove_subscriber(stream.get());
  // Once the stream is gone, lines are quiet again.
  p->begin_chunk(SourceKind::kContainer, raw);
  EXPECT_NE(p->quiet_hits(), nullptr);
  p->end_chunk();
  EXPECT_EQ(p->quiet_hits(), nullptr);  // outside a chunk
}

TEST_F(PipelineTest, MatchesAreStagedUntilPublished) {
  p->init_conditions();
  ASSERT_TRUE(health.conditions.count("DiskFull"));
  EXPECT_FALSE(health.active("DiskFull"));
  line("all good");
  line("oops it broke");
  p->on_batch_end();
  EXPECT_EQ(metrics.lines(SourceKind::kContainer).Value(), 2);
  EXPECT_TRUE(health.events.empty());  // nothing before the checkpoint is durable
  auto staged = p->take_staged();
  ASSERT_EQ(staged.size(), 1u);
  EXPECT_EQ(staged[0].pod, "web");
  for (const auto& s : staged) p->log_problem(s);
  p->publish(staged);
  ASSERT_EQ(health.count_events("Oops"), 1u);
  EXPECT_EQ(health.events[0].attributes.at("namespace"), "prod");
  EXPECT_EQ(metrics.problems("Oops", SourceKind::kContainer).Value(), 1);
}

TEST_F(PipelineTest, PermanentRuleSetsAndLaterClearsItsCondition) {
  p->init_conditions();
  line("write: no space left", SourceKind::kFile);
  p->publish(p->take_staged());
  EXPECT_TRUE(health.active("DiskFull"));
  EXPECT_EQ(health.conditions["DiskFull"].reason, "NoSpace");
  EXPECT_EQ(health.count_events("NoSpace"), 1u);
  line("write: no space left again", SourceKind::kFile);
  p->publish(p->take_staged());
  EXPECT_EQ(health.count_events("NoSpace"), 1u);  // only the transition is an event
  clock.advance(11min);
  p->expire_conditions();
  EXPECT_FALSE(health.active("DiskFull"));
  EXPECT_EQ(health.conditions["DiskFull"].reason, "DiskOK");
}

TEST_F(PipelineTest, EventFloodIsRateLimitedButCounted) {
  for (int i = 0; i < 100; ++i) line("oops " + std::to_string(i));
  p->publish(p->take_staged());
  EXPECT_EQ(health.count_events("Oops"), 5u);
  EXPECT_EQ(metrics.events_suppressed("Oops").Value(), 95);
  clock.advance(13s);
  line("oops again");
  p->publish(p->take_staged());
  ASSERT_EQ(health.count_events("Oops"), 6u);
  EXPECT_EQ(health.events.back().attributes.at("suppressed"), "95");
}

TEST_F(PipelineTest, AStormWhileCommitsStallIsBoundedAndStillCounted) {
  const size_t n = kMaxStagedProblems + 500;
  for (size_t i = 0; i < n; ++i) line("oops");
  auto staged = p->take_staged();
  ASSERT_EQ(staged.size(), kMaxStagedProblems + 1);
  EXPECT_EQ(staged.back().count, 500u);
  EXPECT_TRUE(staged.back().line.empty());
  for (const auto& s : staged) p->log_problem(s);
  EXPECT_EQ(metrics.problems("Oops", SourceKind::kContainer).Value(), static_cast<double>(n));
  CheckpointState st;
  p->snapshot_counters(staged, st);
  EXPECT_EQ((st.problems[{"Oops", "container"}]), n);
}

TEST_F(PipelineTest, MetricsNeverCarryPods) {
  line("oops");
  for (const auto& s : p->take_staged()) p->log_problem(s);
  for (const auto& fam : registry.Collect()) {
    for (const auto& metric : fam.metric) {
      for (const auto& label : metric.label) {
        EXPECT_TRUE(label.name == "source" || label.name == "reason" || label.name == "kind" ||
                    label.name == "state")
            << fam.name << " has label " << label.name;
      }
    }
  }
}

// Pods write container lines: however they imitate a node problem, no node condition is set.
TEST_F(PipelineTest, ContainerLinesNeverSetNodeConditions) {
  p->init_conditions();
  line("write /var/lib/kubelet: no space left on device");
  p->publish(p->take_staged());
  EXPECT_FALSE(health.active("DiskFull"));
  EXPECT_EQ(health.count_events("NoSpace"), 0u);
}

// Event budgets are per rule and pod: one pod flooding a rule does not silence the same rule
// for another pod (nor for the node's own sources).
TEST_F(PipelineTest, ANoisyPodDoesNotSuppressAnotherPodsEvents) {
  for (int i = 0; i < 100; ++i) line("oops " + std::to_string(i));
  p->publish(p->take_staged());
  EXPECT_EQ(health.count_events("Oops"), 5u);
  EXPECT_EQ(metrics.events_suppressed("Oops").Value(), 95);
  PodRef quiet{"prod", "api", "uid2", "srv"};
  LineMeta m;
  m.kind = SourceKind::kContainer;
  m.pod = &quiet;
  m.path = &path;
  p->on_line(m, "oops from api");
  line("oops from web again");
  p->publish(p->take_staged());
  ASSERT_EQ(health.count_events("Oops"), 6u);
  EXPECT_EQ(health.events.back().attributes.at("pod"), "api");
  EXPECT_EQ(health.events.back().attributes.count("suppressed"), 0u);
  // kubelet lines are charged to the pod they name (pod="ns/name").
  LineMeta km;
  km.kind = SourceKind::kKubelet;
  km.path = &path;
  p->on_line(km, R"("Probe failed" pod="prod/web" oops)");
  p->on_line(km, R"("Probe failed" pod="prod/db" oops)");
  p->publish(p->take_staged());
  // prod/web spent its budget above (its container's lines); prod/db has its own.
  ASSERT_EQ(health.count_events("Oops"), 7u);
  EXPECT_NE(health.events.back().message.find("prod/db"), std::string::npos);
}

TEST(PipelineBudgetTest, TrackedPodsAreBoundedAndAStormAcrossPodsHitsTheRuleCeiling) {
  RuleSet set;
  parse_rule_file(R"({"rules":[{"type":"temporary","reason":"Oops","pattern":"oops"}]})", "t.json",
                  set);
  std::vector<std::string> errors;
  auto m = RuleMatcher::compile(set.rules, &errors);
  testing::FakeClock clock;
  testing::RecordingHealthSink health;
  prometheus::Registry registry;
  LogMetrics metrics{registry};
  PipelineOptions o;
  o.max_event_budgets = 8;
  o.rule_event_burst = 20;
  LogPipeline p(std::move(set), std::move(m), metrics, health, clock, core::Logger::discard(), o);
  std::string path = "/x";
  std::vector<PodRef> pods;
  for (int i = 0; i < 100; ++i) pods.push_back({"ns", "pod" + std::to_string(i), "u", "c"});
  for (const auto& pod : pods) {
    LineMeta meta;
    meta.kind = SourceKind::kContainer;
    meta.pod = &pod;
    meta.path = &path;
    p.on_line(meta, "oops");
  }
  p.publish(p.take_staged());
  EXPECT_EQ(health.count_events("Oops"), 20u);  // the per-rule ceiling
  EXPECT_LE(p.event_budgets(), 8u);
}

}  // namespace
}  // namespace ng::probes::logs
