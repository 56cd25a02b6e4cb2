#include "netfilter/guard.h"

#include <gmock/gmock.h>
#include <prometheus/registry.h>

#include "netfilter/snapshot_store.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_files.h"
#include "tests/fakes/manual_executor.h"
#include "tests/fakes/recording_health_sink.h"
#include "tests/support/metric_value.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/netfilter/guard_fixture.h"

namespace ng::netfilter {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

using ng::testing::metric_sum;

std::string detail(const core::ComponentStatus& s, const std::string& key) {
  for (const auto& [k, v] : s.details) {
    if (k == key) return v;
  }
  return "<none>";
}

class GuardTest : public ::testing::Test {
 protected:
  GuardTest() : env(registry, core::Logger(log_sink, core::LogLevel::kDebug)) {}

  void SetUp() override {
    fake = std::make_shared<testing::FakeNetfilterBackend>(kind);
    fake->load(Family::kIPv4, testing::netfilter_data("cni-nft-ipv4.save"));
    before = *fake->read(Family::kIPv4, "nat");
  }

  GuardOptions options() {
    GuardOptions o;
    o.backend_mode = std::string(to_string(kind));
    o.families = {Family::kIPv4};
    o.policy = testing::default_guard_policy();
    o.snapshot_dir = "/state/netfilter";
    o.identity = "boot-1/4026531840";
    o.lock_path = tmp / "xtables.lock";
    o.restore_policies = restore_policies;
    o.dry_run = dry_run;
    o.drift_grace = grace;
    o.lock_timeout = lock_timeout;
    return o;
  }

  std::unique_ptr<Guard> make_guard() {
    return std::make_unique<Guard>(
        options(), std::vector<std::shared_ptr<Backend>>{fake},
        Guard::Deps{clock, loop, workers, files, health, env, registry,
                    core::Logger(log_sink, core::LogLevel::kDebug).with_component("netfilter")});
  }

  // Runs loop and workers until nothing is queued.
  void settle() {
    while (loop.pending() || workers.pending()) {
      workers.run_all();
      loop.run_all();
    }
  }
  void start() {
    guard = make_guard();
    guard->start();
    settle();
    ASSERT_TRUE(guard->started());
  }
  std::vector<std::string> guarded(Family f = Family::kIPv4) {
    return testing::guarded_lines(*fake->read(f, "nat"), policy);
  }
  TableView nat_view() {
    for (auto& t : guard->view().tables) {
      if (t.key.table == "nat") return t;
    }
    return {};
  }
  double m(const std::string& name, std::map<std::string, std::string> labels = {}) {
    return metric_sum(registry, name, std::move(labels));
  }

  BackendKind kind = BackendKind::kNft;
  bool restore_policies = false;
  bool dry_run = false;
  core::Duration grace{0};
  std::chrono::milliseconds lock_timeout{5000};
  testing::TempDir tmp;
  testing::FakeClock clock;
  testing::ManualExecutor loop, workers;
  testing::FakeFiles files;
  testing::RecordingHealthSink health;
  prometheus::Registry registry;
  std::shared_ptr<core::MemoryLogSink> log_sink = std::make_shared<core::MemoryLogSink>();
  core::EnvErrorReporter env;
  std::shared_ptr<testing::FakeNetfilterBackend> fake;
  GuardPolicy policy = testing::default_guard_policy();
  Table before;
  std::unique_ptr<Guard> guard;
};

TEST_F(GuardTest, StartTakesSnapshotCreatesCanaryAndPersists) {
  start();
  EXPECT_TRUE(fake->read(Family::kIPv4, "nat")->has(GuardPolicy::kCanary));
  EXPECT_TRUE(fake->read(Family::kIPv4, "filter")->has(GuardPolicy::kCanary));
  EXPECT_FALSE(fake->read(Family::kIPv4, "raw")->has(GuardPolicy::kCanary));  // nothing guarded
  auto v = nat_view();
  EXPECT_EQ(v.state, "ok");
  EXPECT_EQ(v.guarded_chains, 10u);
  EXPECT_GT(v.guarded_rules, 20u);
  EXPECT_EQ(m("nodeguard_netfilter_guarded_rules", {{"table", "nat"}}), double(v.guarded_rules));
  EXPECT_EQ(m("nodeguard_netfilter_backend_info", {{"backend", "nft"}, {"mode", "nft"}}), 1);
  auto file = files.read("/state/netfilter/nft-ipv4-nat.rules");
  ASSERT_TRUE(file.ok());
  auto snap = decode_snapshot(*file);
  ASSERT_TRUE(snap.ok()) << snap.error().message;
  EXPECT_TRUE(snap->header.canary);
  EXPECT_TRUE(snap->table.has("CNI-HOSTPORT-DNAT"));
  EXPECT_EQ(guard->status().state, core::ComponentState::kRunning);
}

TEST_F(GuardTest, FlushIsRepairedOnNotification) {
  start();
  const int commits = fake->commits();
  fake->flush_table(Family::kIPv4, "nat");
  clock.advance(3ms);
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  EXPECT_EQ(guarded(), testing::guarded_lines(before, policy));
  EXPECT_EQ(fake->commits(), commits + 1);  // one atomic commit
  EXPECT_EQ(m("nodeguard_netfilter_drift_events_total", {{"table", "nat"}, {"kind", "flush"}}), 1);
  EXPECT_EQ(m("nodeguard_netfilter_repairs_total", {{"table", "nat"}, {"result", "applied"}}), 1);
  EXPECT_EQ(m("nodeguard_netfilter_repair_duration_seconds"), 1);
  EXPECT_EQ(health.count_events("NetfilterDrift"), 1u);
  EXPECT_EQ(health.count_events("NetfilterRepaired"), 1u);
  EXPECT_EQ(health.events.back().attributes.at("table"), "nat");
  EXPECT_EQ(health.events.back().attributes.at("backend"), "nft");
  EXPECT_TRUE(log_sink->contains("\"msg\":\"repair applied\""));
  auto v = nat_view();
  EXPECT_EQ(v.last_repair_result, "applied");
  EXPECT_EQ(v.repairs, 1u);
  EXPECT_FALSE(fake->read(Family::kIPv4, "nat")->has("KUBE-PROXY-CANARY"));
}

TEST_F(GuardTest, FastWriteIsUsedAndCounted) {
  start();
  // The canary setup at start went through the tools (fast mode off).
  const double restores = m("nodeguard_netfilter_commits_total", {{"path", "restore"}});
  EXPECT_EQ(restores, 2);  // nat and filter
  fake->set_fast_mode(testing::FakeNetfilterBackend::FastMode::kOk);
  fake->flush_table(Family::kIPv4, "nat");
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  EXPECT_EQ(guarded(), testing::guarded_lines(before, policy));
  EXPECT_EQ(m("nodeguard_netfilter_commits_total", {{"path", "netlink"}, {"result", "ok"}}), 1);
  EXPECT_EQ(m("nodeguard_netfilter_commits_total", {{"path", "restore"}}), restores);
  EXPECT_TRUE(log_sink->contains("\"path\":\"netlink\""));
}

TEST_F(GuardTest, FastWriteThatDoesNotVerifyIsRedoneThroughTheTools) {
  start();
  fake->set_fast_mode(testing::FakeNetfilterBackend::FastMode::kMismatch);
  const int commits = fake->commits();
  const size_t writes = fake->fast_requests().size();
  fake->flush_table(Family::kIPv4, "nat");
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  // The same repair: a fast write that read back short, then the tools from that read-back.
  EXPECT_EQ(guarded(), testing::guarded_lines(before, policy));
  EXPECT_EQ(fake->commits(), commits + 2);
  const auto fast = fake->fast_requests();
  ASSERT_EQ(fast.size(), writes + 2);
  EXPECT_TRUE(fast[writes]);
  EXPECT_FALSE(fast[writes + 1]);
  EXPECT_EQ(
      m("nodeguard_netfilter_commits_total", {{"path", "netlink"}, {"result", "verify_failed"}}),
      1);
  EXPECT_EQ(m("nodeguard_netfilter_commits_total", {{"path", "restore"}, {"result", "ok"}}), 3);
  EXPECT_EQ(m("nodeguard_netfilter_repairs_total", {{"table", "nat"}, {"result", "applied"}}), 1);
  EXPECT_TRUE(log_sink->contains("read-back after the netlink batch differs"));
  EXPECT_EQ(nat_view().state, "ok");
}

TEST_F(GuardTest, RefusedFastWriteFallsBackInTheSameWrite) {
  start();
  fake->set_fast_mode(testing::FakeNetfilterBackend::FastMode::kRefuse);
  fake->flush_table(Family::kIPv4, "nat");
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  EXPECT_EQ(guarded(), testing::guarded_lines(before, policy));
  EXPECT_EQ(m("nodeguard_netfilter_commits_total", {{"path", "netlink"}, {"result", "failed"}}), 1);
  EXPECT_EQ(m("nodeguard_netfilter_commits_total", {{"path", "restore"}, {"result", "ok"}}), 3);
  EXPECT_TRUE(log_sink->contains("fast path failed: fake kernel refused the batch"));
}

TEST_F(GuardTest, FastWriteThatKeepsFindingTheTableMovedEndsThroughTheTools) {
  start();
  fake->set_fast_mode(testing::FakeNetfilterBackend::FastMode::kMoved);
  const size_t writes = fake->fast_requests().size();
  fake->flush_table(Family::kIPv4, "nat");
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  EXPECT_EQ(guarded(), testing::guarded_lines(before, policy));
  // Re-read and re-planned after each refusal; the last try needs no pinned generation.
  const auto fast = fake->fast_requests();
  ASSERT_EQ(fast.size(), writes + 3);
  EXPECT_TRUE(fast[writes]);
  EXPECT_TRUE(fast[writes + 1]);
  EXPECT_FALSE(fast[writes + 2]);
  EXPECT_EQ(m("nodeguard_netfilter_commits_total", {{"path", "netlink"}, {"result", "failed"}}), 2);
  EXPECT_EQ(m("nodeguard_netfilter_repairs_total", {{"table", "nat"}, {"result", "applied"}}), 1);
  EXPECT_EQ(nat_view().state, "ok");
}

TEST_F(GuardTest, FastWriteIsNotRedoneWhenUnownedRulesMovedUnderIt) {
  // Someone adds an unowned rule to PREROUTING right after a batch that read back short:
  // planning from that read-back would not lead to the expected table, so this repair is not
  // redone through the tools; it reports what is missing and a later check repairs it.
  start();
  fake->set_fast_mode(testing::FakeNetfilterBackend::FastMode::kMismatch);
  fake->after_commit([this] {
    fake->after_commit({});
    fake->set_fast_mode(testing::FakeNetfilterBackend::FastMode::kOff);
    ASSERT_TRUE(fake->apply_restore(Family::kIPv4,
                                    "*nat\n-A PREROUTING -s 198.51.100.0/24 -j RETURN\nCOMMIT\n"));
  });
  fake->flush_table(Family::kIPv4, "nat");
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  EXPECT_EQ(
      m("nodeguard_netfilter_commits_total", {{"path", "netlink"}, {"result", "verify_failed"}}),
      1);
  EXPECT_FALSE(log_sink->contains("read-back after the netlink batch differs"));
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  EXPECT_EQ(guarded(), testing::guarded_lines(before, policy));
  EXPECT_NE(fake->save(Family::kIPv4, "nat").find("-A PREROUTING -s 198.51.100.0/24 -j RETURN"),
            std::string::npos);
}

TEST_F(GuardTest, RequestCheckIsCoalesced) {
  start();
  fake->flush_table(Family::kIPv4, "nat");
  const int reads = fake->reads();
  for (int i = 0; i < 10; ++i) guard->request_check("firewalld Reloaded");
  settle();
  // nat and filter checked once each, plus one coalesced rerun each, plus one verify read back
  // of the repair; not ten.
  EXPECT_LE(fake->reads() - reads, 7);
  EXPECT_EQ(guarded(), testing::guarded_lines(before, policy));
  EXPECT_EQ(m("nodeguard_netfilter_repairs_total", {{"result", "applied"}}), 1);
}

TEST_F(GuardTest, PodDeletionUpdatesTheSnapshotWithoutRepair) {
  start();
  const int commits = fake->commits();
  ASSERT_TRUE(fake->apply_restore(Family::kIPv4,
                                  "*nat\n-D CNI-HOSTPORT-DNAT 1\n-F CNI-DN-d3965bcbc3dd2fee4b494\n"
                                  "-X CNI-DN-d3965bcbc3dd2fee4b494\nCOMMIT\n")
                  .ok());
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  EXPECT_EQ(fake->commits(), commits) << fake->restores().back();
  EXPECT_FALSE(nat_view().snapshot->has("CNI-DN-d3965bcbc3dd2fee4b494"));
  EXPECT_EQ(m("nodeguard_netfilter_snapshot_updates_total", {{"table", "nat"}}), 1);
  // A later flush brings back what was there, without the deleted pod.
  fake->flush_table(Family::kIPv4, "nat");
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  EXPECT_FALSE(fake->read(Family::kIPv4, "nat")->has("CNI-DN-d3965bcbc3dd2fee4b494"));
  EXPECT_TRUE(fake->read(Family::kIPv4, "nat")->has("CNI-HOSTPORT-DNAT"));
}

TEST_F(GuardTest, PortmapTeardownStepsAreNotDrift) {
  grace = 1s;
  start();
  const int commits = fake->commits();
  auto step = [&](const std::string& restore) {
    ASSERT_TRUE(fake->apply_restore(Family::kIPv4, "*nat\n" + restore + "COMMIT\n").ok());
    guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
    settle();
    clock.advance(20ms);
    settle();
  };
  // portmap DEL: flush the pod's chain, delete the jump to it, delete the chain; then the
  // bridge plugin does the same with its masquerade chain.
  step("-F CNI-DN-d3965bcbc3dd2fee4b494\n");
  step("-D CNI-HOSTPORT-DNAT 1\n");
  step("-X CNI-DN-d3965bcbc3dd2fee4b494\n");
  step("-F CNI-d3965bcbc3dd2fee4b4941a6\n");
  step("-D POSTROUTING 3\n");
  step("-X CNI-d3965bcbc3dd2fee4b4941a6\n");
  clock.advance(2s);
  settle();
  EXPECT_EQ(fake->commits(), commits);
  EXPECT_EQ(m("nodeguard_netfilter_repairs_total"), 0);
  EXPECT_FALSE(nat_view().snapshot->has("CNI-DN-d3965bcbc3dd2fee4b494"));
  EXPECT_EQ(nat_view().state, "ok");
}

TEST_F(GuardTest, PartialDriftIsRepairedAfterTheGrace) {
  grace = 1s;
  start();
  ASSERT_TRUE(
      fake->apply_restore(Family::kIPv4, "*nat\n-D CNI-DN-d3965bcbc3dd2fee4b494 3\nCOMMIT\n").ok());
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  EXPECT_EQ(m("nodeguard_netfilter_repairs_total"), 0);
  EXPECT_EQ(nat_view().state, "drift");
  clock.advance(1s);
  settle();
  EXPECT_EQ(m("nodeguard_netfilter_repairs_total", {{"result", "applied"}}), 1);
  EXPECT_EQ(guarded(), testing::guarded_lines(before, policy));
  // The histogram counts from the first sighting: about the grace.
  EXPECT_EQ(m("nodeguard_netfilter_repair_duration_seconds"), 1);
}

TEST_F(GuardTest, FightBacksOffAndRaisesCondition) {
  start();
  // Another controller deletes the DNAT rule of the pod right after every repair.
  const std::string remove = "*nat\n-D CNI-DN-d3965bcbc3dd2fee4b494 3\nCOMMIT\n";
  bool fighter = true;
  auto poke = [&] {
    if (fighter) (void)fake->apply_restore(Family::kIPv4, remove);
    guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
    settle();
  };
  poke();  // repair 1
  clock.advance(10ms);
  poke();  // repair 2
  clock.advance(10ms);
  poke();  // repair 3
  EXPECT_EQ(m("nodeguard_netfilter_repairs_total", {{"result", "applied"}}), 3);
  EXPECT_FALSE(health.active("NetfilterFight"));
  clock.advance(10ms);
  poke();  // 4th time the same drift: back off
  EXPECT_TRUE(health.active("NetfilterFight"));
  EXPECT_EQ(nat_view().state, "backoff");
  EXPECT_EQ(m("nodeguard_netfilter_repairs_total", {{"result", "applied"}}), 3);
  // Changes during the backoff do not repair.
  for (int i = 0; i < 5; ++i) {
    clock.advance(100ms);
    poke();
  }
  EXPECT_EQ(m("nodeguard_netfilter_repairs_total", {{"result", "applied"}}), 3);
  clock.advance(1s);  // the 1 s backoff ends: one repair
  settle();
  EXPECT_EQ(guarded(), testing::guarded_lines(before, policy));
  EXPECT_EQ(m("nodeguard_netfilter_repairs_total", {{"result", "applied"}}), 4);
  poke();  // back again: 2 s now
  EXPECT_EQ(nat_view().backoff, 2s);
  clock.advance(2s);
  settle();
  EXPECT_EQ(m("nodeguard_netfilter_repairs_total", {{"result", "applied"}}), 5);
  // Over a simulated minute of fighting the repairs stay bounded by the backoff.
  for (int i = 0; i < 60; ++i) {
    clock.advance(1s);
    poke();
  }
  EXPECT_LE(m("nodeguard_netfilter_repairs_total", {{"result", "applied"}}), 10);
  EXPECT_EQ(health.count_events("NetfilterFightDetected"), 1u);
  // The fighter stops; a quiet period clears the condition.
  fighter = false;
  clock.advance(10min);
  settle();
  guard->request_check("test");
  settle();
  guard->request_check("test");
  settle();
  EXPECT_FALSE(health.active("NetfilterFight"));
}

TEST_F(GuardTest, FlushStormIsNotAFight) {
  start();
  for (int i = 0; i < 20; ++i) {
    fake->flush_table(Family::kIPv4, "nat");
    clock.advance(50ms);
    guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
    settle();
    ASSERT_EQ(guarded(), testing::guarded_lines(before, policy)) << "flush " << i;
  }
  EXPECT_FALSE(health.active("NetfilterFight"));
  EXPECT_EQ(m("nodeguard_netfilter_repairs_total", {{"result", "applied"}}), 20);
}

TEST_F(GuardTest, DryRunLogsRestoreTextAndChangesNothing) {
  dry_run = true;
  start();
  EXPECT_FALSE(fake->read(Family::kIPv4, "nat")->has(GuardPolicy::kCanary));
  EXPECT_TRUE(files.contents().empty());  // no snapshot written in dry-run
  fake->flush_table(Family::kIPv4, "nat", false);
  const int commits = fake->commits();
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  EXPECT_EQ(fake->commits(), commits);
  EXPECT_TRUE(log_sink->contains("netfilter dry-run: would apply"));
  EXPECT_TRUE(log_sink->contains("-A CNI-HOSTPORT-DNAT -p tcp"));
  EXPECT_EQ(m("nodeguard_netfilter_repairs_total", {{"result", "dry_run"}}), 1);
  EXPECT_TRUE(fake->read(Family::kIPv4, "nat")->find("CNI-HOSTPORT-DNAT")->rules.empty());
}

TEST_F(GuardTest, RestartRepairsFromThePersistedSnapshot) {
  start();
  guard->stop();
  guard.reset();
  fake->flush_table(Family::kIPv4, "nat");  // while the agent is down
  start();
  EXPECT_EQ(guarded(), testing::guarded_lines(before, policy));
  EXPECT_TRUE(log_sink->contains("netfilter snapshot loaded"));
  EXPECT_EQ(m("nodeguard_netfilter_drift_events_total", {{"kind", "flush"}}), 1);
}

TEST_F(GuardTest, SnapshotFromAnotherBootIsDiscarded) {
  start();
  guard->stop();
  guard.reset();
  auto& text = files.contents()["/state/netfilter/nft-ipv4-nat.rules"];
  text.replace(text.find("boot-1"), 6, "boot-0");
  fake->flush_table(Family::kIPv4, "nat");
  start();
  EXPECT_TRUE(log_sink->contains("netfilter snapshot discarded"));
  EXPECT_TRUE(fake->read(Family::kIPv4, "nat")->find("CNI-HOSTPORT-DNAT") == nullptr);
}

// A full or read-only state dir: the guard keeps repairing from the snapshot in memory, says
// so (log, environment error, degraded status) and recovers when a write succeeds again.
TEST_F(GuardTest, UnwritableStateDirKeepsGuardingFromMemory) {
  files.fail_writes(core::EnvError{core::EnvErrorKind::kResourceLimit, "write: No space left"});
  start();
  EXPECT_TRUE(log_sink->contains("netfilter snapshot not persisted; guarding from memory"));
  EXPECT_EQ(m("nodeguard_environment_errors_total",
              {{"component", "netfilter"}, {"kind", "resource_limit"}}),
            m("nodeguard_environment_errors_total", {{"component", "netfilter"}}));
  EXPECT_GE(m("nodeguard_environment_errors_total", {{"kind", "resource_limit"}}), 1);
  auto st = guard->status();
  EXPECT_EQ(st.state, core::ComponentState::kDegraded);
  EXPECT_THAT(st.message, HasSubstr("guarding from memory"));
  EXPECT_THAT(detail(st, "snapshot_error"), HasSubstr("No space left"));
  EXPECT_FALSE(files.exists("/state/netfilter/nft-ipv4-nat.rules"));

  fake->flush_table(Family::kIPv4, "nat");
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  EXPECT_EQ(guarded(), testing::guarded_lines(before, policy));  // repaired from memory

  files.fail_writes(std::nullopt);
  fake->flush_table(Family::kIPv4, "nat");
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  EXPECT_TRUE(files.exists("/state/netfilter/nft-ipv4-nat.rules"));
  EXPECT_TRUE(files.exists("/state/netfilter/nft-ipv4-filter.rules"));  // unchanged, written too
  EXPECT_TRUE(log_sink->contains("netfilter snapshot persisted again"));
  EXPECT_EQ(guard->status().state, core::ComponentState::kRunning);
  EXPECT_EQ(detail(guard->status(), "snapshot_error"), "");
}

// Writable again while nothing changes: the periodic verify writes the snapshots.
TEST_F(GuardTest, SnapshotsArePersistedByTheVerifyOnceWritable) {
  files.fail_writes(core::EnvError{core::EnvErrorKind::kPermission, "Read-only file system"});
  start();
  EXPECT_EQ(guard->status().state, core::ComponentState::kDegraded);
  files.fail_writes(std::nullopt);
  clock.advance(60s);
  settle();
  EXPECT_TRUE(files.exists("/state/netfilter/nft-ipv4-nat.rules"));
  EXPECT_EQ(guard->status().state, core::ComponentState::kRunning);
}

TEST_F(GuardTest, MalformedDumpIsCountedAndSkipped) {
  start();
  const int commits = fake->commits();
  fake->set_garbage("*nat\n:X - [0:0]\n-A X -m comment --comment \"open\nCOMMIT\n");
  guard->request_check("test");
  settle();
  EXPECT_EQ(fake->commits(), commits);
  EXPECT_EQ(m("nodeguard_netfilter_read_errors_total", {{"reason", "invalid_input"}}),
            3);  // nat, filter, mangle
  EXPECT_EQ(guard->status().state, core::ComponentState::kDegraded);
  EXPECT_THAT(nat_view().last_error, HasSubstr("unterminated quote"));
  fake->set_garbage(std::nullopt);
  clock.advance(5s);  // the retry
  settle();
  EXPECT_EQ(guard->status().state, core::ComponentState::kRunning);
}

TEST_F(GuardTest, CommitFailureRaisesConditionAndRetries) {
  start();
  fake->set_commit_error(core::EnvError{core::EnvErrorKind::kPermission, "EPERM"});
  fake->flush_table(Family::kIPv4, "nat");
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  EXPECT_TRUE(health.active("NetfilterRepairFailing"));
  EXPECT_EQ(health.count_events("NetfilterRepairFailed"), 1u);
  EXPECT_EQ(m("nodeguard_environment_errors_total", {{"component", "netfilter"}}), 1);
  fake->set_commit_error(std::nullopt);
  clock.advance(5s);
  settle();
  EXPECT_EQ(guarded(), testing::guarded_lines(before, policy));
  EXPECT_FALSE(health.active("NetfilterRepairFailing"));
}

// Another process holds the xtables lock past lock_timeout: the repair fails with lock_busy
// (counted), nothing is written, and the next attempt comes retry_interval after the first one
// started, the wait included; once the lock is free the repair lands.
TEST_F(GuardTest, BusyLockIsReportedAndRetriedWithinTheRetryInterval) {
  lock_timeout = std::chrono::milliseconds(1);
  start();
  XtablesLock other(tmp / "xtables.lock");
  auto held = other.acquire(std::chrono::milliseconds(0));
  ASSERT_TRUE(held.ok());
  const int commits = fake->commits();
  fake->flush_table(Family::kIPv4, "nat");
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  EXPECT_EQ(fake->commits(), commits);
  EXPECT_EQ(
      m("nodeguard_environment_errors_total", {{"component", "netfilter"}, {"kind", "lock_busy"}}),
      1);
  { auto release = std::move(*held); }
  clock.advance(5s - 2ms);
  settle();
  EXPECT_EQ(fake->commits(), commits);
  clock.advance(1ms);  // retry_interval (5 s) minus lock_timeout (1 ms), the wait already spent
  settle();
  EXPECT_EQ(guarded(), testing::guarded_lines(before, policy));
  EXPECT_EQ(fake->commits(), commits + 1);
}

TEST_F(GuardTest, LegacyPollDetectsChange) {
  kind = BackendKind::kLegacy;
  SetUp();
  start();
  const int tokens = fake->token_reads();
  clock.advance(100ms);
  settle();
  EXPECT_GT(fake->token_reads(), tokens);
  EXPECT_EQ(m("nodeguard_netfilter_repairs_total"), 0);
  fake->flush_table(Family::kIPv4, "nat");
  clock.advance(100ms);
  settle();
  EXPECT_EQ(guarded(), testing::guarded_lines(before, policy));
  EXPECT_EQ(m("nodeguard_netfilter_checks_total", {{"trigger", "poll"}}), 1);  // nat only
}

TEST_F(GuardTest, PolicyDropIsReportedNotRestoredByDefault) {
  start();
  ASSERT_TRUE(fake->apply_restore(Family::kIPv4, "*filter\n:FORWARD DROP [0:0]\nCOMMIT\n").ok());
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "filter");
  settle();
  EXPECT_TRUE(health.active("NetfilterPolicyDrop"));
  EXPECT_THAT(health.conditions["NetfilterPolicyDrop"].message, HasSubstr("FORWARD"));
  EXPECT_EQ(fake->read(Family::kIPv4, "filter")->find("FORWARD")->policy, "DROP");
  ASSERT_TRUE(fake->apply_restore(Family::kIPv4, "*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n").ok());
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "filter");
  settle();
  EXPECT_FALSE(health.active("NetfilterPolicyDrop"));
}

TEST_F(GuardTest, PolicyDropRestoredWhenConfigured) {
  restore_policies = true;
  start();
  ASSERT_TRUE(fake->apply_restore(Family::kIPv4, "*filter\n:FORWARD DROP [0:0]\nCOMMIT\n").ok());
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "filter");
  settle();
  EXPECT_EQ(fake->read(Family::kIPv4, "filter")->find("FORWARD")->policy, "ACCEPT");
  EXPECT_EQ(m("nodeguard_netfilter_drift_events_total", {{"kind", "policy_changed"}}), 1);
}

TEST_F(GuardTest, ContributedRulesAreRepairedInTheSameCommit) {
  start();
  guard->add_expected_rules_provider("cni-cache", [](BackendKind, Family, const std::string& t) {
    std::vector<ExpectedChain> out;
    if (t != "nat") return out;
    Chain dn;
    dn.name = "CNI-DN-0123456789abcdef01234";
    Rule r;
    r.spec = "-p tcp -m tcp --dport 9090 -j DNAT --to-destination 10.244.1.9:80";
    dn.rules.push_back(r);
    Chain hp;
    hp.name = "CNI-HOSTPORT-DNAT";
    Rule j;
    j.spec = "-p tcp -m multiport --dports 9090 -j CNI-DN-0123456789abcdef01234";
    hp.rules.push_back(j);
    out = {{dn}, {hp}};
    return out;
  });
  fake->flush_table(Family::kIPv4, "nat");
  const int commits = fake->commits();
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  EXPECT_EQ(fake->commits(), commits + 1);
  auto t = *fake->read(Family::kIPv4, "nat");
  EXPECT_TRUE(t.has("CNI-DN-0123456789abcdef01234"));
  EXPECT_TRUE(t.has("CNI-DN-d3965bcbc3dd2fee4b494"));
  EXPECT_EQ(t.find("CNI-HOSTPORT-DNAT")->rules.size(), 2u);
}

TEST_F(GuardTest, RepairNowDryRunReportsWithoutCommitting) {
  start();
  fake->flush_table(Family::kIPv4, "nat");
  const int commits = fake->commits();
  std::vector<TableRepairResult> got;
  RepairRequest req;
  req.dry_run = true;
  req.table = "nat";
  guard->repair_now(req, [&](std::vector<TableRepairResult> r) { got = std::move(r); });
  settle();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0].committed);
  EXPECT_THAT(got[0].restore_text, HasSubstr(":CNI-HOSTPORT-DNAT - [0:0]"));
  EXPECT_FALSE(got[0].changes.empty());
  EXPECT_EQ(got[0].drift.front().kind, DriftKind::kFlush);
  EXPECT_EQ(fake->commits(), commits);
  req.dry_run = false;
  guard->repair_now(req, [&](std::vector<TableRepairResult> r) { got = std::move(r); });
  settle();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].committed);
  EXPECT_TRUE(got[0].error.empty()) << got[0].error;
  EXPECT_EQ(guarded(), testing::guarded_lines(before, policy));
}

TEST_F(GuardTest, NftVerifySkipsReadWhenNothingChanged) {
  start();
  clock.advance(3s);  // the first mixed-mode scan reads the unwatched raw table once
  settle();
  const int reads = fake->reads();
  clock.advance(60s);
  settle();
  EXPECT_EQ(fake->reads(), reads);
  EXPECT_EQ(m("nodeguard_netfilter_checks_total", {{"trigger", "verify"}}), 3);
}

TEST_F(GuardTest, UnavailableBackendDegrades) {
  fake->set_unavailable(core::EnvError{core::EnvErrorKind::kMissingBinary, "no iptables-nft"});
  guard = make_guard();
  guard->start();
  settle();
  EXPECT_EQ(guard->status().state, core::ComponentState::kDegraded);
  EXPECT_TRUE(guard->view().tables.empty());
}

}  // namespace
}  // namespace ng::netfilter
