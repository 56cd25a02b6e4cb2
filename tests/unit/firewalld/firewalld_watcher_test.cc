#include "netfilter/firewalld/firewalld_watcher.h"

#include <gmock/gmock.h>
#include <prometheus/registry.h>

#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_files.h"
#include "tests/fakes/manual_executor.h"
#include "tests/fakes/recording_health_sink.h"
#include "tests/support/metric_value.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/firewalld/recorded_answers.h"
#include "tests/unit/netfilter/guard_fixture.h"

namespace ng::netfilter::firewalld {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using testing::FakeBus;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

class WatcherTest : public ::testing::Test {
 protected:
  WatcherTest() : env(registry, core::Logger(log_sink, core::LogLevel::kDebug)) {}

  void make(FirewalldConfig c = {}) {
    c.retry_max = std::chrono::milliseconds(8000);
    auto b = std::make_unique<FakeBus>();
    bus = b.get();
    testing::load_scenario(*bus, scenario);
    bus->answer(kDbusName, "GetNameOwner", {kFirewalldName}, FakeBus::ok({DbusValue::str(":1.7")}));
    bus->answer(kPropertiesInterface, "Get", {kFirewalldName, "state"},
                FakeBus::ok({DbusValue::str("RUNNING")}));
    watcher = std::make_unique<FirewalldWatcher>(
        c, std::move(b),
        NetfilterLink{[this](std::string r) { checks.push_back(std::move(r)); },
                      [this] { return view; }},
        FirewalldWatcher::Deps{clock, health, env, registry,
                               core::Logger(log_sink, core::LogLevel::kDebug)});
    watcher->set_node_facts([this] { return facts; });
  }
  void start(FirewalldConfig c = {}) {
    make(c);
    watcher->start();
    bus->deliver();
  }
  double m(const std::string& name, std::map<std::string, std::string> labels = {}) {
    return testing::metric_value(registry, name, labels);
  }
  std::string detail(const std::string& key) {
    for (const auto& [k, v] : watcher->status().details) {
      if (k == key) return v;
    }
    return "<none>";
  }
  size_t log_lines(const std::string& needle) {
    size_t n = 0;
    for (const auto& l : log_sink->lines()) n += l.find(needle) != std::string::npos;
    return n;
  }

  std::string scenario = "stock";
  testing::FakeClock clock;
  testing::RecordingHealthSink health;
  prometheus::Registry registry;
  std::shared_ptr<core::MemoryLogSink> log_sink = std::make_shared<core::MemoryLogSink>();
  core::EnvErrorReporter env;
  FakeBus* bus = nullptr;
  std::vector<std::string> checks;
  GuardView view;
  NodeFacts facts{{{"eth0", "veth", true}, {"cali0a1b", "veth", false}},
                  {"10.244.0.0/16"},
                  true,
                  {"192.168.50.2"},
                  {},
                  false,
                  false,
                  false};
  std::unique_ptr<FirewalldWatcher> watcher;
};

TEST_F(WatcherTest, FindsRunningFirewalldReadsItsPolicyAndReportsConflicts) {
  start();
  EXPECT_TRUE(watcher->bus_connected());
  EXPECT_TRUE(watcher->firewalld_running());
  ASSERT_TRUE(watcher->policy());
  EXPECT_EQ(watcher->policy()->backend, "nftables");
  // Subscriptions: NameOwnerChanged for firewalld's name, and firewalld's own signals.
  EXPECT_EQ(bus->subscriptions(), 2u);
  EXPECT_TRUE(checks.empty());  // nothing happened to firewalld: no check needed
  EXPECT_TRUE(health.active("FirewalldBlocksBGP"));
  EXPECT_TRUE(health.active("FirewalldBlocksKubelet"));
  EXPECT_TRUE(health.active("FirewalldCNIInterfaceNotTrusted"));
  EXPECT_FALSE(health.active("FirewalldBlocksIPIP"));  // no IPIP here
  EXPECT_THAT(health.conditions["FirewalldBlocksBGP"].message,
              HasSubstr("firewall-cmd --permanent --zone=public --add-port=179/tcp"));
  EXPECT_EQ(health.conditions["FirewalldBlocksBGP"].reason, "BGPPortClosed");
  EXPECT_EQ(m("nodeguard_firewalld_conflicts", {{"check", "bgp"}}), 1);
  EXPECT_EQ(m("nodeguard_firewalld_conflicts", {{"check", "ipip"}}), 0);
  EXPECT_EQ(m("nodeguard_firewalld_up"), 1);
  EXPECT_EQ(m("nodeguard_firewalld_bus_connected"), 1);
  EXPECT_EQ(m("nodeguard_firewalld_backend_info", {{"backend", "nftables"}}), 1);
  EXPECT_EQ(m("nodeguard_firewalld_policy_queries_total", {{"result", "ok"}}), 1);
  const auto st = watcher->status();
  EXPECT_EQ(st.state, core::ComponentState::kRunning);
  EXPECT_THAT(st.message,
              HasSubstr("firewalld 1.3.3 running (backend nftables, default zone public)"));
  EXPECT_THAT(st.message, HasSubstr("FirewalldBlocksBGP"));
  EXPECT_EQ(detail("running"), "true");
  EXPECT_EQ(detail("backend"), "nftables");
  EXPECT_EQ(detail("reloads_seen"), "0");
  EXPECT_THAT(detail("conflicts"), HasSubstr("FirewalldBlocksKubelet"));
  EXPECT_EQ(detail("conflict_bgp"), "179/tcp in zone public");
}

TEST_F(WatcherTest, ReloadedTriggersAnImmediateCheckAndOneLogLine) {
  start();
  const size_t queries = bus->calls_to("getDefaultZone");
  bus->emit_reloaded(":1.7");
  // At once, not after a poll or a reply.
  ASSERT_THAT(checks, ElementsAre("firewalld reload"));
  EXPECT_EQ(log_lines("\"trigger\":\"Reloaded\""), 1u);
  EXPECT_EQ(log_lines("\"msg\":\"firewalld event; netfilter check requested\""), 1u);
  EXPECT_EQ(m("nodeguard_firewalld_reloads_total", {{"trigger", "reloaded"}}), 1);
  EXPECT_EQ(health.count_events("FirewalldReloaded"), 1u);  // an Event on the Node, exported
  bus->deliver();
  EXPECT_EQ(bus->calls_to("getDefaultZone"), queries + 1);  // the policy read again
  EXPECT_EQ(detail("reloads_seen"), "1");
  EXPECT_EQ(detail("reloads"), "1");
  EXPECT_EQ(detail("last_reload_trigger"), "Reloaded (reloaded)");
  EXPECT_NE(detail("last_reload"), "");
  EXPECT_THAT(watcher->status().message, HasSubstr("1 reload/restart seen, last "));
}

TEST_F(WatcherTest, RestartTriggersChecksAtStopStartAndWhenFirewalldAnswers) {
  start();
  bus->emit_owner_changed(":1.7", "");
  EXPECT_THAT(checks, ElementsAre("firewalld stop"));
  EXPECT_FALSE(watcher->firewalld_running());
  EXPECT_FALSE(
      health.active("FirewalldBlocksBGP"));  // firewalld gone: its policy no longer applies
  EXPECT_EQ(m("nodeguard_firewalld_up"), 0);
  EXPECT_EQ(m("nodeguard_firewalld_conflicts", {{"check", "bgp"}}), 0);
  EXPECT_THAT(watcher->status().message, HasSubstr("firewalld not running"));

  // firewalld takes its name before it rebuilds its rules, and answers only after.
  bus->hold = [](const auto& c) { return c.member == "Get" && c.args.at(1) == "state"; };
  bus->emit_owner_changed("", ":1.9");
  EXPECT_THAT(checks, ElementsAre("firewalld stop", "firewalld restart"));
  EXPECT_EQ(log_lines("\"trigger\":\"NameOwnerChanged\""), 2u);
  bus->deliver();
  EXPECT_EQ(bus->held(), 1u);
  EXPECT_THAT(watcher->status().message, HasSubstr("firewalld starting"));
  EXPECT_EQ(bus->calls.back().timeout, std::chrono::milliseconds(90000));
  bus->hold = nullptr;
  bus->release();
  EXPECT_THAT(checks, ElementsAre("firewalld stop", "firewalld restart", "firewalld ready"));
  EXPECT_TRUE(health.active("FirewalldBlocksBGP"));
  EXPECT_EQ(m("nodeguard_firewalld_reloads_total", {{"trigger", "started"}}), 1);
  EXPECT_EQ(m("nodeguard_firewalld_reloads_total", {{"trigger", "stopped"}}), 1);
  EXPECT_EQ(detail("reloads_seen"), "2");
  // Signals from the old owner are not firewalld's any more.
  bus->emit_reloaded(":1.7");
  EXPECT_EQ(checks.size(), 3u);
  bus->emit_reloaded(":1.9");
  EXPECT_EQ(checks.size(), 4u);
}

// Any process on the system bus can emit a Reloaded on firewalld's path: while nobody owns
// firewalld's name, none of them is firewalld.
TEST_F(WatcherTest, ReloadedWhileNobodyOwnsFirewalldsNameChangesNothing) {
  make();
  bus->answer(kDbusName, "GetNameOwner", {kFirewalldName},
              FakeBus::error("org.freedesktop.DBus.Error.NameHasNoOwner", "no owner"));
  watcher->start();
  bus->deliver();
  const size_t calls = bus->calls.size();
  for (int i = 0; i < 300; ++i) {
    bus->emit_reloaded(":1.42");
    bus->deliver();
  }
  EXPECT_TRUE(checks.empty());
  EXPECT_FALSE(watcher->firewalld_running());
  EXPECT_EQ(m("nodeguard_firewalld_up"), 0);
  EXPECT_EQ(m("nodeguard_firewalld_reloads_total", {{"trigger", "reloaded"}}), 0);
  EXPECT_EQ(m("nodeguard_firewalld_ignored_signals_total", {{"reason", "no_owner"}}), 300);
  EXPECT_EQ(bus->calls.size(), calls);  // no policy read either
  EXPECT_EQ(detail("reloads_seen"), "0");
  EXPECT_EQ(
      log_lines("\"msg\":\"firewalld watcher: a signal not sent by firewalld's bus name owner "
                "was ignored"),
      1u);                                             // logged once, counted every time
  EXPECT_EQ(log_lines("\"sender\":\":1.42\""), 300u);  // the rest at debug
}

TEST_F(WatcherTest, SignalsFromAnotherConnectionThanTheOwnerAreIgnored) {
  start();
  const size_t queries = bus->calls_to("getDefaultZone");
  bus->emit_reloaded(":1.42");
  bus->emit(BusSignal{":1.42", kFirewalldPath, kZoneInterface, "PortAdded", {}});
  bus->emit(BusSignal{"", kFirewalldPath, kFirewalldName, "Reloaded", {}});
  clock.advance(1s);
  bus->deliver();
  EXPECT_TRUE(checks.empty());
  EXPECT_EQ(bus->calls_to("getDefaultZone"), queries);
  EXPECT_EQ(m("nodeguard_firewalld_ignored_signals_total", {{"reason", "not_owner"}}), 3);
  EXPECT_EQ(m("nodeguard_firewalld_reloads_total", {{"trigger", "reloaded"}}), 0);
  bus->emit_reloaded(":1.7");  // the owner
  EXPECT_THAT(checks, ElementsAre("firewalld reload"));
}

// A NameOwnerChanged sent by a client on firewalld's path (which the path match delivers) must
// not make that client firewalld's owner.
TEST_F(WatcherTest, AForgedNameOwnerChangedIsIgnored) {
  make();
  bus->answer(kDbusName, "GetNameOwner", {kFirewalldName},
              FakeBus::error("org.freedesktop.DBus.Error.NameHasNoOwner", "no owner"));
  watcher->start();
  bus->deliver();
  bus->emit(
      BusSignal{":1.42",
                kFirewalldPath,
                kDbusName,
                "NameOwnerChanged",
                {DbusValue::str(kFirewalldName), DbusValue::str(""), DbusValue::str(":1.42")}});
  bus->deliver();
  bus->emit_reloaded(":1.42");
  bus->deliver();
  EXPECT_TRUE(checks.empty());
  EXPECT_FALSE(watcher->firewalld_running());
  EXPECT_EQ(m("nodeguard_firewalld_ignored_signals_total", {{"reason", "not_bus_driver"}}), 1);
  EXPECT_EQ(m("nodeguard_firewalld_ignored_signals_total", {{"reason", "no_owner"}}), 1);
  // The real one, from the bus daemon, still counts.
  bus->emit_owner_changed("", ":1.3");
  bus->deliver();
  EXPECT_THAT(checks, ElementsAre("firewalld restart", "firewalld ready"));
}

TEST_F(WatcherTest, AnAnswerOfThePreviousInstanceIsDropped) {
  start();
  bus->hold = [](const auto& c) { return c.member == "getDefaultZone"; };
  bus->emit_reloaded(":1.7");
  bus->deliver();
  bus->emit_owner_changed(":1.7", ":1.8");  // replaced while the read was in flight
  bus->deliver();
  bus->hold = nullptr;
  bus->release();
  // The new instance's read completes; the old one's answers were ignored, no crash, one policy.
  EXPECT_TRUE(watcher->policy());
  EXPECT_EQ(m("nodeguard_firewalld_policy_queries_total", {{"result", "ok"}}), 2);
}

TEST_F(WatcherTest, FirewalldAbsentIsANormalState) {
  make();
  bus->answer(kDbusName, "GetNameOwner", {kFirewalldName},
              FakeBus::error("org.freedesktop.DBus.Error.NameHasNoOwner", "no owner"));
  watcher->start();
  bus->deliver();
  EXPECT_TRUE(watcher->bus_connected());
  EXPECT_FALSE(watcher->firewalld_running());
  EXPECT_EQ(watcher->status().state, core::ComponentState::kRunning);
  EXPECT_EQ(detail("running"), "false");
  EXPECT_FALSE(env.has_error("firewalld"));
  EXPECT_TRUE(health.conditions.empty());
  EXPECT_EQ(bus->calls_to("getDefaultZone"), 0u);
  // It starts later: checked and read.
  bus->emit_owner_changed("", ":1.3");
  bus->deliver();
  EXPECT_THAT(checks, ElementsAre("firewalld restart", "firewalld ready"));
  EXPECT_TRUE(watcher->firewalld_running());
  EXPECT_EQ(bus->calls_to("getDefaultZone"), 1u);
}

// A firewalld killed in the middle of a reload leaves the built-in policies at DROP: judged
// with no firewalld at all, with the command that restores them.
TEST_F(WatcherTest, PoliciesLeftAtDropAreReportedWithoutFirewalld) {
  make();
  bus->answer(kDbusName, "GetNameOwner", {kFirewalldName},
              FakeBus::error("org.freedesktop.DBus.Error.NameHasNoOwner", "no owner"));
  watcher->start();
  bus->deliver();
  EXPECT_FALSE(health.active("IptablesPolicyDrop"));
  TableView t;
  t.key = TableKey{BackendKind::kNft, Family::kIPv4, "filter"};
  t.reports.push_back(
      DriftFinding{DriftKind::kPolicyChanged, "FORWARD", "", "policy ACCEPT -> DROP"});
  view.tables.push_back(t);
  clock.advance(10s);
  ASSERT_TRUE(health.active("IptablesPolicyDrop"));
  EXPECT_EQ(health.conditions["IptablesPolicyDrop"].reason, "BuiltinPolicyDrop");
  EXPECT_THAT(health.conditions["IptablesPolicyDrop"].message,
              HasSubstr("iptables-nft -t filter -P FORWARD ACCEPT"));
  EXPECT_EQ(m("nodeguard_firewalld_conflicts", {{"check", "policy_drop"}}), 1);
  EXPECT_EQ(m("nodeguard_firewalld_conflicts", {{"check", "kubelet"}}), 0);
  EXPECT_THAT(watcher->status().message, HasSubstr("conflicts: IptablesPolicyDrop"));
  // Put back: the condition clears at the next judgement.
  view.tables.clear();
  clock.advance(10s);
  EXPECT_FALSE(health.active("IptablesPolicyDrop"));
  EXPECT_EQ(m("nodeguard_firewalld_conflicts", {{"check", "policy_drop"}}), 0);
}

TEST_F(WatcherTest, UnreachableBusIsReportedOnceAndRetriedWithCappedBackoff) {
  make();
  bus->connect_result = core::EnvError{core::EnvErrorKind::kNotFound,
                                       "system bus unix:path=/x: No such file or directory"};
  watcher->start();
  EXPECT_EQ(bus->connects, 1u);
  EXPECT_TRUE(env.has_error("firewalld"));
  EXPECT_EQ(
      m("nodeguard_environment_errors_total", {{"component", "firewalld"}, {"kind", "not_found"}}),
      1);
  ASSERT_TRUE(health.conditions.count("FirewalldNotWatched"));
  EXPECT_TRUE(health.active("FirewalldNotWatched"));
  EXPECT_EQ(health.conditions["FirewalldNotWatched"].severity, core::Severity::kInfo);
  EXPECT_EQ(watcher->status().state, core::ComponentState::kRunning);
  EXPECT_THAT(watcher->status().message, HasSubstr("system bus unreachable"));
  // 1 s, 2 s, 4 s, then the 8 s cap (retry_max), never faster: no error loop.
  std::vector<size_t> at;
  for (int s = 1; s <= 40; ++s) {
    clock.advance(1s);
    at.push_back(bus->connects);
  }
  EXPECT_EQ(at[0], 2u);                           // t=1
  EXPECT_EQ(at[2], 3u);                           // t=3
  EXPECT_EQ(at[6], 4u);                           // t=7
  EXPECT_EQ(at[14], 5u);                          // t=15
  EXPECT_EQ(at[22], 6u);                          // t=23
  EXPECT_EQ(at[30], 7u);                          // t=31
  EXPECT_EQ(at[38], 8u);                          // t=39
  EXPECT_EQ(log_lines("environment error"), 1u);  // logged once, counted every time
  // The bus comes back.
  bus->connect_result = core::Ok{};
  clock.advance(8s);
  bus->deliver();
  EXPECT_TRUE(watcher->bus_connected());
  EXPECT_FALSE(env.has_error("firewalld"));
  EXPECT_FALSE(health.active("FirewalldNotWatched"));
  EXPECT_TRUE(watcher->firewalld_running());
}

TEST_F(WatcherTest, LostBusReconnectsAndChecksTheTables) {
  start();
  bus->drop("Connection reset by peer");
  EXPECT_THAT(checks, ElementsAre("system bus connection lost"));
  EXPECT_FALSE(watcher->bus_connected());
  EXPECT_FALSE(health.active("FirewalldBlocksBGP"));
  EXPECT_TRUE(health.active("FirewalldNotWatched"));
  clock.advance(1s);
  bus->deliver();
  EXPECT_EQ(bus->connects, 2u);
  EXPECT_TRUE(watcher->bus_connected());
  EXPECT_TRUE(health.active("FirewalldBlocksBGP"));
  EXPECT_EQ(bus->subscriptions(), 2u);
}

TEST_F(WatcherTest, ZoneChangeSignalsAreDebouncedIntoOneRead) {
  start();
  const size_t before = bus->calls_to("getDefaultZone");
  for (int i = 0; i < 5; ++i) {
    bus->emit(BusSignal{":1.7", kFirewalldPath, kZoneInterface, "PortAdded", {}});
    clock.advance(50ms);
  }
  EXPECT_EQ(bus->calls_to("getDefaultZone"), before);
  clock.advance(200ms);
  bus->deliver();
  EXPECT_EQ(bus->calls_to("getDefaultZone"), before + 1);
  EXPECT_TRUE(checks.empty());  // a zone change does not touch iptables
}

TEST_F(WatcherTest, ConflictsClearWhenFixedAndFollowTheNode) {
  start();
  ASSERT_TRUE(health.active("FirewalldBlocksBGP"));
  // The node stops running BGP: rejudged from the cached policy, no D-Bus call needed.
  facts.bgp_sessions = false;
  const size_t calls = bus->calls.size();
  clock.advance(10s);
  EXPECT_FALSE(health.active("FirewalldBlocksBGP"));
  EXPECT_EQ(bus->calls.size(), calls);
  EXPECT_EQ(log_lines("firewalld policy conflict resolved"), 1u);
  // An operator opens everything: the next read (recheck_interval) clears the rest.
  scenario = "k8s_ready";
  testing::load_scenario(*bus, "k8s_ready");
  clock.advance(60s);
  bus->deliver();
  EXPECT_FALSE(health.active("FirewalldBlocksKubelet"));
  EXPECT_FALSE(health.active("FirewalldCNIInterfaceNotTrusted"));
  EXPECT_EQ(detail("conflict_count"), "0");
}

TEST_F(WatcherTest, PolicyReadErrorsRetryWithBackoff) {
  make();
  bus->answer(kFirewalldName, "getDefaultZone", {},
              FakeBus::error("org.freedesktop.DBus.Error.NoReply", "Connection timed out"));
  watcher->start();
  bus->deliver();
  EXPECT_TRUE(watcher->firewalld_running());
  EXPECT_FALSE(watcher->policy());
  EXPECT_THAT(detail("policy_error"), HasSubstr("NoReply"));
  EXPECT_EQ(m("nodeguard_firewalld_policy_queries_total", {{"result", "error"}}), 1);
  clock.advance(1s);
  bus->deliver();
  EXPECT_EQ(m("nodeguard_firewalld_policy_queries_total", {{"result", "error"}}), 2);
  clock.advance(1s);
  bus->deliver();
  EXPECT_EQ(m("nodeguard_firewalld_policy_queries_total", {{"result", "error"}}), 2);  // now 2 s
  testing::load_scenario(*bus, "stock");
  clock.advance(1s);
  bus->deliver();
  EXPECT_TRUE(watcher->policy());
  EXPECT_EQ(detail("policy_error"), "<none>");
}

TEST_F(WatcherTest, BadSignalsAndAnswersAreCountedAndSkipped) {
  start();
  bus->emit(BusSignal{"org.freedesktop.DBus",
                      kDbusPath,
                      kDbusName,
                      "NameOwnerChanged",
                      {DbusValue::str(kFirewalldName), DbusValue::boolean(true)}});
  EXPECT_EQ(m("nodeguard_firewalld_invalid_answers_total", {{"method", "NameOwnerChanged"}}), 1);
  EXPECT_TRUE(watcher->firewalld_running());
  bus->answer(kZoneInterface, "getZoneSettings2", {"public"},
              FakeBus::ok({DbusValue::dict({{"target", DbusValue::boolean(false)}})}));
  bus->emit_reloaded(":1.7");
  bus->deliver();
  EXPECT_EQ(m("nodeguard_firewalld_invalid_answers_total", {{"method", "getZoneSettings2"}}), 1);
  EXPECT_THAT(detail("answer_problems"), HasSubstr("zone public target"));
}

TEST_F(WatcherTest, DisabledDoesNothing) {
  FirewalldConfig c;
  c.enabled = false;
  make(c);
  watcher->start();
  EXPECT_EQ(bus->connects, 0u);
  EXPECT_EQ(watcher->status().state, core::ComponentState::kDisabled);
}

TEST_F(WatcherTest, StopClosesTheBusAndDropsLateAnswers) {
  make();
  watcher->start();
  watcher->stop();
  bus->deliver();
  EXPECT_FALSE(bus->connected());
  EXPECT_FALSE(watcher->firewalld_running());
  clock.advance(120s);
  EXPECT_EQ(bus->connects, 1u);
}

// With the real guard on the fake netfilter backend: firewalld flushed nat, the guard repaired
// from its own notification already, then Reloaded arrives ~50 ms later. The coalesced second
// check reads once, repairs nothing and is no fight.
class WatcherWithGuardTest : public WatcherTest {
 protected:
  void SetUp() override {
    backend = std::make_shared<testing::FakeNetfilterBackend>(BackendKind::kNft);
    backend->load(Family::kIPv4, testing::netfilter_data("cni-nft-ipv4.save"));
    GuardOptions o;
    o.backend_mode = "nft";
    o.families = {Family::kIPv4};
    o.policy = testing::default_guard_policy();
    o.lock_path = tmp / "xtables.lock";
    o.drift_grace = 0s;
    guard = std::make_unique<Guard>(
        o, std::vector<std::shared_ptr<Backend>>{backend},
        Guard::Deps{clock, loop, workers, files, health, env, registry,
                    core::Logger(log_sink, core::LogLevel::kDebug).with_component("netfilter")});
    guard->start();
    settle();
  }
  void settle() {
    while (loop.pending() || workers.pending()) {
      workers.run_all();
      loop.run_all();
    }
  }
  testing::TempDir tmp;
  testing::ManualExecutor loop, workers;
  testing::FakeFiles files;
  std::shared_ptr<testing::FakeNetfilterBackend> backend;
  std::unique_ptr<Guard> guard;
};

TEST_F(WatcherWithGuardTest, ReloadAfterTheGuardRepairedIsCheapAndNoFight) {
  FirewalldConfig c;
  auto b = std::make_unique<FakeBus>();
  bus = b.get();
  testing::load_scenario(*bus, "stock");
  bus->answer(kDbusName, "GetNameOwner", {kFirewalldName}, FakeBus::ok({DbusValue::str(":1.7")}));
  bus->answer(kPropertiesInterface, "Get", {kFirewalldName, "state"},
              FakeBus::ok({DbusValue::str("RUNNING")}));
  watcher = std::make_unique<FirewalldWatcher>(
      c, std::move(b), NetfilterLink::of(*guard),
      FirewalldWatcher::Deps{clock, health, env, registry,
                             core::Logger(log_sink, core::LogLevel::kDebug)});
  watcher->start();
  bus->deliver();
  settle();
  const auto before =
      testing::guarded_lines(*backend->read(Family::kIPv4, "nat"), testing::default_guard_policy());

  backend->flush_table(Family::kIPv4, "nat");
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  ASSERT_EQ(m("nodeguard_netfilter_repairs_total", {{"backend", "nft"},
                                                    {"family", "ipv4"},
                                                    {"table", "nat"},
                                                    {"result", "applied"},
                                                    {"writer", "unknown"}}),
            1);
  const int commits = backend->commits();
  const int reads = backend->reads();
  clock.advance(50ms);
  bus->emit_reloaded(":1.7");
  settle();
  EXPECT_EQ(backend->commits(), commits);  // nothing to repair
  // One read per watched table (nat, filter, mangle), nothing else.
  EXPECT_LE(backend->reads() - reads, static_cast<int>(guard->view().tables.size()));
  EXPECT_EQ(m("nodeguard_netfilter_repairs_total", {{"backend", "nft"},
                                                    {"family", "ipv4"},
                                                    {"table", "nat"},
                                                    {"result", "applied"},
                                                    {"writer", "unknown"}}),
            1);
  EXPECT_FALSE(health.active("NetfilterFight"));
  EXPECT_EQ(
      testing::guarded_lines(*backend->read(Family::kIPv4, "nat"), testing::default_guard_policy()),
      before);
  // A second reload that did flush (the guard had not seen it): repaired by the Reloaded check.
  backend->flush_table(Family::kIPv4, "nat");
  bus->emit_reloaded(":1.7");
  settle();
  EXPECT_EQ(backend->commits(), commits + 1);
  EXPECT_EQ(
      testing::guarded_lines(*backend->read(Family::kIPv4, "nat"), testing::default_guard_policy()),
      before);
  EXPECT_TRUE(log_sink->contains("\"trigger\":\"request\""));
  EXPECT_FALSE(health.active("NetfilterFight"));
}

}  // namespace
}  // namespace ng::netfilter::firewalld
