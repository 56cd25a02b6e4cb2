#include "probes/logs/logs_component.h"

#include <filesystem>

#include "tests/fakes/fake_files.h"
#include "tests/fakes/recording_health_sink.h"
#include "tests/unit/logs/fake_journal_reader.h"
#include "tests/unit/logs/tailer_fixture.h"

namespace ng::probes::logs {
namespace {

using namespace std::chrono_literals;
using testing::append;
using testing::cri;

class ComponentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir / "c");
    log = dir / "c/app.log";
    append(log, "");
    files.contents()["/rules/r.json"] =
        R"({"rules":[{"type":"temporary","reason":"Boom","pattern":"boom"}]})";
  }

  std::unique_ptr<LogsComponent> make(const std::string& kubelet = "journald") {
    LogsConfig c;
    c.container_dirs = {dir / "c"};
    c.kubelet = kubelet;
    c.rules = {"/rules/r.json"};
    c.read_from_head = true;
    auto w = std::make_unique<testing::FakeFsWatcher>();
    watcher = w.get();
    auto j = std::make_unique<testing::FakeJournalReader>();
    journal = j.get();
    for (const auto& e : journal_entries) j->append(e);
    j->open_error = journal_open_error;
    auto comp = std::make_unique<LogsComponent>(
        c,
        LogsComponent::Deps{io, clock, loop, workers, registry, health, env,
                            core::Logger::discard(), files, "/state"},
        std::move(w), std::move(j));
    comp->start();
    loop.run_all();
    return comp;
  }

  // Two commit rounds: one may already be in flight for earlier progress.
  void tick() {
    for (int i = 0; i < 2; ++i) {
      clock.advance(200ms);
      workers.run_all();
      loop.run_all();
    }
  }

  testing::TempDir dir;
  std::string log;
  boost::asio::io_context io;
  testing::FakeClock clock;
  testing::ManualExecutor loop, workers;
  prometheus::Registry registry;
  testing::RecordingHealthSink health;
  core::EnvErrorReporter env{registry, core::Logger::discard()};
  testing::FakeFiles files;
  testing::FakeFsWatcher* watcher = nullptr;
  testing::FakeJournalReader* journal = nullptr;
  std::vector<std::string> journal_entries;
  std::optional<core::EnvError> journal_open_error;
};

TEST_F(ComponentTest, EventsArePublishedOnlyAfterTheCheckpointIsWritten) {
  auto c = make();
  append(log, cri("boom one"));
  watcher->hint(dir / "c", "app.log");
  loop.run_all();
  EXPECT_EQ(health.count_events("Boom"), 0u);
  clock.advance(150ms);  // the commit tick hands the write to a worker
  loop.run_all();
  EXPECT_EQ(health.count_events("Boom"), 0u);
  EXPECT_EQ(files.writes(), 0);
  workers.run_all();  // durable now
  EXPECT_EQ(files.writes(), 1);
  loop.run_all();
  EXPECT_EQ(health.count_events("Boom"), 1u);
  const std::string cp = files.contents().at("/state/logs/checkpoints");
  EXPECT_NE(cp.find(log), std::string::npos);
}

TEST_F(ComponentTest, CheckpointWritesAreThrottled) {
  auto c = make();
  for (int i = 0; i < 50; ++i) {
    append(log, cri("line " + std::to_string(i)));
    watcher->hint(dir / "c", "app.log");
    loop.run_all();
    tick();
  }
  // 50 batches in 20 s of fake time at checkpoint_interval 1 s: about 20 writes, not 50.
  EXPECT_LE(files.writes(), 22);
  EXPECT_GE(files.writes(), 15);
}

TEST_F(ComponentTest, RestartResumesWithoutReAlerting) {
  {
    auto c = make();
    append(log, cri("boom before"));
    watcher->hint(dir / "c", "app.log");
    loop.run_all();
    tick();
    EXPECT_EQ(health.count_events("Boom"), 1u);
    c->stop();
  }
  append(log, cri("boom after"));
  health.events.clear();
  auto c2 = make();
  tick();
  ASSERT_EQ(health.count_events("Boom"), 1u);
  EXPECT_EQ(health.events[0].message, "boom after");
}

TEST_F(ComponentTest, CountersContinueAcrossRestartsWithoutDoubleCounting) {
  {
    auto c = make("");
    append(log, cri("boom 1") + cri("quiet"));
    watcher->hint(dir / "c", "app.log");
    loop.run_all();
    tick();
    append(log, cri("boom 2"));  // read, but the agent dies before a checkpoint covers it
    watcher->hint(dir / "c", "app.log");
    loop.run_all();
  }
  prometheus::Registry fresh;
  auto c2 = std::make_unique<LogsComponent>(
      [&] {
        LogsConfig cfg;
        cfg.container_dirs = {dir / "c"};
        cfg.kubelet = "";
        cfg.rules = {"/rules/r.json"};
        return cfg;
      }(),
      LogsComponent::Deps{io, clock, loop, workers, fresh, health, env, core::Logger::discard(),
                          files, "/state"},
      std::make_unique<testing::FakeFsWatcher>(), std::make_unique<testing::FakeJournalReader>());
  c2->start();
  loop.run_all();
  tick();
  EXPECT_EQ(c2->metrics().lines(SourceKind::kContainer).Value(), 3);
  for (int i = 0; i < 2; ++i) {
    clock.advance(1s);
    workers.run_all();
    loop.run_all();
  }
  EXPECT_EQ(c2->metrics().problems("Boom", SourceKind::kContainer).Value(), 2);
}

TEST_F(ComponentTest, JournalCursorIsPersistedAndResumed) {
  journal_entries = {"old entry"};
  {
    auto c = make();
    EXPECT_EQ(journal->opened_with, "");  // first start: from the end
    journal->append("boom from kubelet");
    clock.advance(1100ms);  // no fd: the journal is polled
    loop.run_all();
    tick();
    EXPECT_EQ(health.count_events("Boom"), 1u);
    c->stop();
  }
  EXPECT_NE(files.contents().at("/state/logs/checkpoints").find("J c2"), std::string::npos);
  journal_entries = {"old entry", "boom from kubelet", "boom while down"};
  health.events.clear();
  auto c2 = make();
  EXPECT_EQ(journal->opened_with, "c2");
  tick();
  ASSERT_EQ(health.count_events("Boom"), 1u);
  EXPECT_EQ(health.events[0].message, "boom while down");
}

TEST_F(ComponentTest, UnavailableJournalDegradesAndRetries) {
  journal_open_error = core::EnvError{core::EnvErrorKind::kPermission, "no journal access"};
  auto c = make();
  EXPECT_EQ(c->status().state, core::ComponentState::kDegraded);
  EXPECT_FALSE(journal->is_open);
  journal->open_error.reset();
  clock.advance(31s);
  loop.run_all();
  EXPECT_TRUE(journal->is_open);
}

TEST_F(ComponentTest, BadRuleDegradesButOthersWork) {
  files.contents()["/rules/r.json"] =
      R"({"rules":[{"type":"temporary","reason":"Boom","pattern":"boom"},
                   {"type":"temporary","reason":"Broken","pattern":"(unclosed"}]})";
  auto c = make("");
  auto st = c->status();
  EXPECT_EQ(st.state, core::ComponentState::kDegraded);
  EXPECT_NE(st.message.find("1 rejected"), std::string::npos);
  bool named = false;
  for (const auto& [k, v] : st.details) named |= v.find("(Broken)") != std::string::npos;
  EXPECT_TRUE(named);
  append(log, cri("boom"));
  watcher->hint(dir / "c", "app.log");
  loop.run_all();
  tick();
  EXPECT_EQ(health.count_events("Boom"), 1u);
}

TEST_F(ComponentTest, UnwritableStateStillPublishes) {
  files.fail_writes(core::EnvError{core::EnvErrorKind::kIo, "disk full"});
  auto c = make("");
  append(log, cri("boom"));
  watcher->hint(dir / "c", "app.log");
  loop.run_all();
  tick();
  EXPECT_EQ(health.count_events("Boom"), 1u);
  EXPECT_EQ(c->status().state, core::ComponentState::kDegraded);
}

TEST_F(ComponentTest, DisabledDoesNothing) {
  LogsConfig c;
  c.enabled = false;
  LogsComponent comp(c, LogsComponent::Deps{io, clock, loop, workers, registry, health, env,
                                            core::Logger::discard(), files, "/state"});
  comp.start();
  EXPECT_EQ(comp.status().state, core::ComponentState::kDisabled);
  comp.stop();
}

}  // namespace
}  // namespace ng::probes::logs
