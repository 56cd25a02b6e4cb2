// The guard on the fake backend: foreign rules reported (log, event, condition, metric) and not
// restored; Forget drops snapshot entries on purpose.
#include <gmock/gmock.h>
#include <prometheus/registry.h>

#include "netfilter/guard.h"
#include "netfilter/snapshot_store.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_files.h"
#include "tests/fakes/manual_executor.h"
#include "tests/fakes/recording_health_sink.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/netfilter/guard_fixture.h"

namespace ng::netfilter {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr char kForeign[] =
    "-A CNI-HOSTPORT-DNAT -p tcp -m tcp --dport 9999 -j DNAT --to-destination 10.0.0.9:80";
constexpr char kDn[] = "CNI-DN-d3965bcbc3dd2fee4b494";

class GuardForeign : public ::testing::Test {
 protected:
  GuardForeign() : env(registry, core::Logger(log_sink, core::LogLevel::kDebug)) {}
  void SetUp() override {
    fake = std::make_shared<testing::FakeNetfilterBackend>(BackendKind::kNft);
    fake->load(Family::kIPv4, testing::netfilter_data("cni-nft-ipv4.save"));
    owned = guarded();
  }
  void start() {
    GuardOptions o;
    o.backend_mode = "nft";
    o.families = {Family::kIPv4};
    o.policy = testing::default_guard_policy();
    o.snapshot_dir = "/state/netfilter";
    o.identity = "boot-1/4026531840";
    o.lock_path = tmp / "xtables.lock";
    o.drift_grace = 0s;
    guard = std::make_unique<Guard>(
        o, std::vector<std::shared_ptr<Backend>>{fake},
        Guard::Deps{clock, loop, workers, files, health, env, registry,
                    core::Logger(log_sink, core::LogLevel::kDebug).with_component("netfilter")});
    if (vouch) guard->set_container_vouch(vouch);
    guard->start();
    settle();
    ASSERT_TRUE(guard->started());
  }
  void settle() {
    while (loop.pending() || workers.pending()) {
      workers.run_all();
      loop.run_all();
    }
  }
  void apply(const std::string& lines) {
    ASSERT_TRUE(fake->apply_restore(Family::kIPv4, "*nat\n" + lines + "\nCOMMIT\n").ok());
    clock.advance(3ms);
    guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
    settle();
  }
  std::vector<std::string> guarded() {
    return testing::guarded_lines(*fake->read(Family::kIPv4, "nat"), policy);
  }
  TableView nat_view() {
    for (auto& t : guard->view().tables) {
      if (t.key.table == "nat") return t;
    }
    return {};
  }
  double gauge(const std::string& name) {
    for (const auto& f : registry.Collect()) {
      if (f.name != name) continue;
      for (const auto& m : f.metric) {
        for (const auto& l : m.label) {
          if (l.name == "table" && l.value == "nat") return m.gauge.value + m.counter.value;
        }
      }
    }
    return -1;
  }
  void flush() {
    fake->flush_table(Family::kIPv4, "nat");
    clock.advance(3ms);
    guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
    settle();
  }
  Table persisted() {
    auto text = files.read("/state/netfilter/nft-ipv4-nat.rules");
    EXPECT_TRUE(text.ok());
    auto s = decode_snapshot(*text);
    EXPECT_TRUE(s.ok());
    return s->table;
  }

  ContainerVouch vouch;
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
  std::vector<std::string> owned;
  std::unique_ptr<Guard> guard;
};

TEST_F(GuardForeign, ForeignRuleIsReportedThenItsDeletionIsNotUndone) {
  start();
  EXPECT_EQ(gauge("nodeguard_netfilter_foreign_rules"), 0);
  apply(kForeign);
  // Reported: event, condition, metric, view, log.
  EXPECT_EQ(health.count_events("NetfilterForeignRule"), 1u);
  EXPECT_THAT(health.events.back().message, HasSubstr("--dport 9999"));
  ASSERT_TRUE(health.active("NetfilterForeignRules"));
  EXPECT_THAT(health.conditions["NetfilterForeignRules"].message,
              HasSubstr("CNI-HOSTPORT-DNAT -p tcp -m tcp --dport 9999"));
  EXPECT_EQ(gauge("nodeguard_netfilter_foreign_rules"), 1);
  ASSERT_EQ(nat_view().foreign.size(), 1u);
  EXPECT_EQ(nat_view().foreign[0].owner, "portmap");
  EXPECT_TRUE(log_sink->contains("\"msg\":\"netfilter foreign rule\""));
  // Seen again: no second event.
  guard->request_check("test");
  settle();
  EXPECT_EQ(health.count_events("NetfilterForeignRule"), 1u);
  // The operator deletes it: no repair, the condition clears.
  apply(std::string("-D") + (kForeign + 2));
  EXPECT_THAT(guarded(), Not(Contains(std::string(kForeign))));
  EXPECT_EQ(health.count_events("NetfilterRepaired"), 0u);
  EXPECT_FALSE(health.active("NetfilterForeignRules"));
  EXPECT_EQ(gauge("nodeguard_netfilter_foreign_rules"), 0);
  // Nor after a flush.
  flush();
  EXPECT_EQ(guarded(), owned);
}

TEST_F(GuardForeign, OwnersRulesAreStillRepaired) {
  start();
  apply(kForeign);
  apply(std::string("-D ") + kDn + " 3");  // the pod's DNAT rule
  EXPECT_EQ(health.count_events("NetfilterRepaired"), 1u);
  EXPECT_THAT(guarded(), Contains(std::string(kForeign)));  // left where it was
}

TEST_F(GuardForeign, UnvouchedContainersRulesAreForeign) {
  vouch = [](const std::string&, const std::string& id) { return id != "abc123def456"; };
  start();
  apply("-D CNI-HOSTPORT-DNAT 1");
  EXPECT_EQ(health.count_events("NetfilterRepaired"), 0u);
  EXPECT_TRUE(fake->read(Family::kIPv4, "nat")->find("CNI-HOSTPORT-DNAT")->rules.empty());
}

TEST_F(GuardForeign, ForgetAChainStopsItsRepairAndIsPersisted) {
  start();
  ForgetRequest r;
  r.entry = {kDn, ""};
  r.table = "nat";
  r.who = "uid:0";
  auto res = guard->forget(r);
  settle();
  ASSERT_EQ(res.size(), 1u);
  EXPECT_EQ(res[0].removed.front(), std::string(":") + kDn);
  EXPECT_TRUE(log_sink->contains("\"msg\":\"snapshot entry forgotten\""));
  EXPECT_TRUE(log_sink->contains("\"who\":\"uid:0\""));
  EXPECT_EQ(health.count_events("NetfilterSnapshotForgotten"), 1u);
  EXPECT_EQ(gauge("nodeguard_netfilter_forgotten_total"), 1);
  EXPECT_FALSE(persisted().has(kDn));
  // A check while it is still in the table does not learn it again.
  guard->request_check("test");
  settle();
  EXPECT_FALSE(nat_view().snapshot->has(kDn));
  EXPECT_FALSE(persisted().has(kDn));
  // Flushed: everything else comes back, not the forgotten chain nor the jump into it.
  flush();
  auto after = *fake->read(Family::kIPv4, "nat");
  EXPECT_FALSE(after.has(kDn));
  EXPECT_TRUE(after.find("CNI-HOSTPORT-DNAT")->rules.empty());
  EXPECT_TRUE(after.has("CNI-HOSTPORT-SETMARK"));
  EXPECT_TRUE(after.has("KUBE-SERVICES"));
  // Gone and seen gone: a new chain of that name is guarded again.
  apply(std::string(":") + kDn + " - [0:0]\n-A " + kDn + " -p tcp -m tcp --dport 1 -j DNAT " +
        "--to-destination 10.244.1.2:80");
  EXPECT_TRUE(nat_view().snapshot->has(kDn));
}

TEST_F(GuardForeign, ForgetOneRule) {
  start();
  ForgetRequest r;
  r.entry = {"KUBE-POSTROUTING", "-j MARK --set-xmark 0x4000/0x0"};
  r.table = "nat";
  r.who = "test";
  ASSERT_EQ(guard->forget(r).size(), 1u);
  settle();
  flush();
  auto after = *fake->read(Family::kIPv4, "nat");
  ASSERT_TRUE(after.has("KUBE-POSTROUTING"));
  EXPECT_EQ(after.find("KUBE-POSTROUTING")->rules.size(), 2u);
  // Nothing matches: nothing forgotten.
  r.entry.rule = "-j NOTHING";
  EXPECT_TRUE(guard->forget(r).empty());
  r.table = "raw";
  EXPECT_TRUE(guard->forget(r).empty());
}

}  // namespace
}  // namespace ng::netfilter
