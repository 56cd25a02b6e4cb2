#include "netfilter/cni/cni_component.h"

#include <gmock/gmock.h>
#include <prometheus/registry.h>

#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_files.h"
#include "tests/fakes/manual_executor.h"
#include "tests/fakes/recording_health_sink.h"
#include "tests/support/metric_value.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/cni/cni_test_data.h"
#include "tests/unit/cni/fake_cni.h"
#include "tests/unit/netfilter/guard_fixture.h"

namespace ng::netfilter::cni {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr char kNetns[] = "/var/run/netns/cni-1234";

class CniComponentTest : public ::testing::Test {
 protected:
  CniComponentTest() : env(registry, core::Logger(log_sink, core::LogLevel::kDebug)) {}

  void SetUp() override { fake = std::make_shared<testing::FakeNetfilterBackend>(); }

  void start(std::string mode = "repair", bool dry_run = false) {
    GuardOptions o;
    o.backend_mode = "nft";
    o.families = {Family::kIPv4, Family::kIPv6};
    o.policy = testing::default_guard_policy();
    o.lock_path = tmp / "xtables.lock";
    o.dry_run = dry_run;
    o.drift_grace = 1s;
    auto log = core::Logger(log_sink, core::LogLevel::kDebug);
    guard = std::make_unique<Guard>(o, std::vector<std::shared_ptr<Backend>>{fake},
                                    Guard::Deps{clock, loop, workers, files, health, env, registry,
                                                log.with_component("netfilter")});
    CniConfig c;
    c.mode = std::move(mode);
    cni = std::make_unique<CniComponent>(
        c, guard.get(), store, probe,
        CniComponent::Deps{clock, loop, workers, health, env, registry, log.with_component("cni")});
    guard->start();
    cni->start();
    settle();
    ASSERT_TRUE(guard->started());
  }
  void TearDown() override {
    if (cni) cni->stop();
    if (guard) guard->stop();
  }
  void settle() {
    while (loop.pending() || workers.pending()) {
      workers.run_all();
      loop.run_all();
    }
  }
  // Time passes in poll-sized steps, work done after each (timers fire in order).
  void pass(core::Duration d) {
    for (core::Duration t{0}; t < d; t += 50ms) {
      clock.advance(50ms);
      settle();
    }
  }
  void add(const std::string& net, const std::string& id, const json& mappings,
           const json& portmap = {}, const std::string& netns = kNetns,
           const std::string& ip4 = "10.244.1.2/24", const std::string& ip6 = "") {
    store->write(
        net + "-" + id + "-eth0",
        testing::cache_file(net, id, testing::conflist(net, portmap), mappings, ip4, ip6, netns)
            .dump());
  }
  Table nat(Family f = Family::kIPv4) { return *fake->read(f, "nat"); }
  std::vector<std::string> rules(const std::string& chain, Family f = Family::kIPv4) {
    std::vector<std::string> out;
    const Table t = nat(f);
    if (const Chain* c = t.find(chain)) {
      for (const auto& r : c->rules) out.push_back(r.spec);
    }
    return out;
  }
  double m(const std::string& name, std::map<std::string, std::string> labels = {}) {
    return testing::metric_value(registry, name, labels);
  }
  size_t log_count(std::string_view needle) {
    size_t n = 0;
    for (const auto& l : log_sink->lines()) n += l.find(needle) != std::string::npos;
    return n;
  }
  std::string detail(const std::string& key) {
    for (const auto& [k, v] : cni->status().details) {
      if (k == key) return v;
    }
    return "<none>";
  }

  testing::TempDir tmp;
  testing::FakeClock clock;
  testing::ManualExecutor loop, workers;
  testing::FakeFiles files;
  testing::RecordingHealthSink health;
  prometheus::Registry registry;
  std::shared_ptr<core::MemoryLogSink> log_sink = std::make_shared<core::MemoryLogSink>();
  core::EnvErrorReporter env;
  std::shared_ptr<testing::FakeNetfilterBackend> fake;
  std::shared_ptr<testing::FakeCacheStore> store = std::make_shared<testing::FakeCacheStore>();
  std::shared_ptr<testing::FakeSandboxProbe> probe = std::make_shared<testing::FakeSandboxProbe>();
  std::unique_ptr<Guard> guard;
  std::unique_ptr<CniComponent> cni;
};

const std::string kDnA = dnat_chain_name("k8s-pod-network", "aaaa");
const std::string kDnB = dnat_chain_name("k8s-pod-network", "bbbb");

TEST_F(CniComponentTest, FirstStartWithNoSnapshotRebuildsHostPortRulesInOneCommit) {
  add("k8s-pod-network", "aaaa", json::array({testing::mapping(8080, 80)}));
  add("k8s-pod-network", "bbbb",
      json::array({testing::mapping(8081, 80), testing::mapping(5353, 53, "udp")}), {}, kNetns,
      "10.244.1.3/24", "fd00:10:244:1::3/64");
  start();
  pass(2s);  // the drift grace, whatever shape the missing rules have
  EXPECT_THAT(rules("PREROUTING"), Contains("-m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT"));
  EXPECT_THAT(rules("POSTROUTING"),
              Contains("-m comment --comment \"CNI portfwd requiring masquerade\" -j "
                       "CNI-HOSTPORT-MASQ"));
  EXPECT_THAT(
      rules(kDnA),
      ::testing::ElementsAre("-s 10.244.1.0/24 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK",
                             "-s 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK",
                             "-p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.244.1.2:80"));
  // The ADD order (file mtimes) orders the entry jumps.
  const auto top = rules("CNI-HOSTPORT-DNAT");
  ASSERT_EQ(top.size(), 3u);
  EXPECT_THAT(top[0], HasSubstr(kDnA));
  EXPECT_THAT(top[1], HasSubstr("-p tcp -m comment --comment \"dnat name: \\\"k8s-pod-network\\\" "
                                "id: \\\"bbbb\\\"\" -m multiport --dports 8081"));
  EXPECT_THAT(top[2], HasSubstr("-p udp"));
  // IPv6: only b has an address.
  EXPECT_THAT(rules(kDnB, Family::kIPv6),
              Contains("-p udp -m udp --dport 5353 -j DNAT --to-destination "
                       "[fd00:10:244:1::3]:53"));
  EXPECT_TRUE(rules(kDnA, Family::kIPv6).empty());
  EXPECT_TRUE(nat().has(GuardPolicy::kCanary));
  EXPECT_EQ(health.count_events("HostPortRulesRebuilt"), 2u);  // one per family
  for (const auto& e : health.events) {
    if (e.reason == "HostPortRulesRebuilt") {
      EXPECT_EQ(e.attributes.at("repair"), "applied");
    }
  }
  // a: 3 chain rules + 1 jump; b: 6 + 2; shared: SETMARK, MASQ, 3 built-in jumps.
  EXPECT_EQ(m("nodeguard_cni_rules_rebuilt_total", {{"family", "ipv4"}}), 17);
  EXPECT_EQ(m("nodeguard_cni_rules_rebuilt_total", {{"family", "ipv6"}}), 11);
  EXPECT_EQ(m("nodeguard_cni_hostport_rules", {{"family", "ipv4"}, {"state", "missing"}}), 0);
  EXPECT_EQ(m("nodeguard_cni_hostport_rules", {{"family", "ipv4"}, {"state", "expected"}}), 17);
  EXPECT_EQ(m("nodeguard_cni_cache_entries", {{"state", "hostport"}}), 2);
  EXPECT_FALSE(health.active("HostPortRulesMissing"));
  EXPECT_EQ(detail("missing_rules_ipv4"), "0");
  EXPECT_EQ(detail("table_ipv4"), "nft/ipv4/nat");
  EXPECT_EQ(cni->status().state, core::ComponentState::kRunning);
  // Rebuilt rules are the guard's from now on: a later flush is repaired from its snapshot.
  const int commits = fake->commits();
  fake->flush_table(Family::kIPv4, "nat");
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  EXPECT_EQ(fake->commits(), commits + 1);
  EXPECT_EQ(rules(kDnA).size(), 3u);
}

TEST_F(CniComponentTest, OtherRulesInBuiltInChainsStayAndTheJumpsGoWherePortmapPutsThem) {
  ASSERT_TRUE(fake->apply_restore(Family::kIPv4,
                                  "*nat\n:MY-OWN - [0:0]\n-A PREROUTING -s 192.0.2.0/24 -j MY-OWN\n"
                                  "-A POSTROUTING -s 192.0.2.0/24 -j MASQUERADE\nCOMMIT\n")
                  .ok());
  add("k8s-pod-network", "aaaa", json::array({testing::mapping(8080, 80)}));
  start();
  pass(2s);
  // PREROUTING/OUTPUT: appended after what is there; POSTROUTING: prepended.
  EXPECT_THAT(rules("PREROUTING"),
              ::testing::ElementsAre("-s 192.0.2.0/24 -j MY-OWN",
                                     "-m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT"));
  EXPECT_THAT(rules("POSTROUTING"),
              ::testing::ElementsAre(
                  "-m comment --comment \"CNI portfwd requiring masquerade\" -j CNI-HOSTPORT-MASQ",
                  "-s 192.0.2.0/24 -j MASQUERADE"));
}

TEST_F(CniComponentTest, ReportModeWritesNothingAndRaisesTheCondition) {
  add("k8s-pod-network", "aaaa", json::array({testing::mapping(8080, 80)}));
  start("report");
  pass(3s);
  EXPECT_FALSE(nat().has(kDnA));
  EXPECT_EQ(fake->commits(), 0);
  ASSERT_TRUE(health.active("HostPortRulesMissing"));
  EXPECT_THAT(health.conditions["HostPortRulesMissing"].message, HasSubstr("k8s-pod-network/aaaa"));
  EXPECT_THAT(health.conditions["HostPortRulesMissing"].message, HasSubstr("cni.mode is report"));
  EXPECT_EQ(m("nodeguard_cni_hostport_rules", {{"family", "ipv4"}, {"state", "missing"}}), 9);
  EXPECT_EQ(health.count_events("HostPortRulesRebuilt"), 0u);
  // The runtime puts them back itself (a CNI ADD): the condition clears, nothing is "rebuilt".
  const std::string dnat =
      "-p tcp -m comment --comment \"dnat name: \\\"k8s-pod-network\\\" id: "
      "\\\"aaaa\\\"\" -m multiport --dports 8080 -j " +
      kDnA;
  ASSERT_TRUE(
      fake->apply_restore(
              Family::kIPv4,
              "*nat\n:CNI-HOSTPORT-SETMARK - [0:0]\n:CNI-HOSTPORT-MASQ - [0:0]\n"
              ":CNI-HOSTPORT-DNAT - [0:0]\n:" +
                  kDnA +
                  " - [0:0]\n"
                  "-A CNI-HOSTPORT-SETMARK -m comment --comment \"CNI portfwd masquerade mark\" "
                  "-j MARK --set-xmark 0x2000/0x2000\n"
                  "-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE\n"
                  "-A POSTROUTING -m comment --comment \"CNI portfwd requiring masquerade\" -j "
                  "CNI-HOSTPORT-MASQ\n"
                  "-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT\n"
                  "-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT\n"
                  "-A " +
                  kDnA +
                  " -s 10.244.1.0/24 -p tcp -m tcp --dport 8080 -j "
                  "CNI-HOSTPORT-SETMARK\n"
                  "-A " +
                  kDnA +
                  " -s 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j "
                  "CNI-HOSTPORT-SETMARK\n"
                  "-A " +
                  kDnA +
                  " -p tcp -m tcp --dport 8080 -j DNAT --to-destination "
                  "10.244.1.2:80\n"
                  "-A CNI-HOSTPORT-DNAT " +
                  dnat + "\nCOMMIT\n")
          .ok());
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  EXPECT_FALSE(health.active("HostPortRulesMissing"));
  EXPECT_EQ(m("nodeguard_cni_hostport_rules", {{"family", "ipv4"}, {"state", "missing"}}), 0);
  EXPECT_EQ(health.count_events("HostPortRulesRebuilt"), 0u);
}

TEST_F(CniComponentTest, OffModeReadsNothing) {
  add("k8s-pod-network", "aaaa", json::array({testing::mapping(8080, 80)}));
  start("off");
  pass(2s);
  EXPECT_EQ(store->reads(), 0);
  EXPECT_FALSE(nat().has(kDnA));
  EXPECT_EQ(cni->status().state, core::ComponentState::kDisabled);
}

TEST_F(CniComponentTest, StaleEntriesAreReportedNeverRebuilt) {
  add("k8s-pod-network", "aaaa", json::array({testing::mapping(8080, 80)}));
  add("k8s-pod-network", "bbbb", json::array({testing::mapping(8081, 80)}), {},
      "/var/run/netns/cni-dead");
  probe->set("/var/run/netns/cni-dead", Presence::kGone);
  start();
  pass(2s);
  EXPECT_TRUE(nat().has(kDnA));
  EXPECT_FALSE(nat().has(kDnB));
  for (const auto& r : rules("CNI-HOSTPORT-DNAT")) EXPECT_THAT(r, Not(HasSubstr(kDnB)));
  ASSERT_EQ(health.count_events("CNICacheStale"), 1u);
  for (const auto& e : health.events) {
    if (e.reason == "CNICacheStale") {
      EXPECT_THAT(e.message, HasSubstr("k8s-pod-network/bbbb/eth0"));
      EXPECT_EQ(e.severity, core::Severity::kInfo);
    }
  }
  EXPECT_EQ(m("nodeguard_cni_cache_entries", {{"state", "stale"}}), 1);
  EXPECT_THAT(detail("stale"), HasSubstr("k8s-pod-network/bbbb/eth0"));
  EXPECT_EQ(log_count("CNI cache entry stale"), 1u);
  // Re-checked every 10 s: still stale, told once.
  pass(11s);
  EXPECT_EQ(health.count_events("CNICacheStale"), 1u);
  EXPECT_EQ(log_count("CNI cache entry stale"), 1u);
}

TEST_F(CniComponentTest, EntriesWhoseExistenceCannotBeToldAreNotRebuilt) {
  add("k8s-pod-network", "aaaa", json::array({testing::mapping(8080, 80)}), {}, /*netns=*/"");
  add("k8s-pod-network", "bbbb", json::array({testing::mapping(8081, 80)}), {},
      "/var/run/netns/cni-odd");
  probe->set("/var/run/netns/cni-odd", Presence::kUnknown);
  start();
  pass(2s);
  EXPECT_FALSE(nat().has(kDnA));
  EXPECT_FALSE(nat().has(kDnB));
  EXPECT_EQ(fake->commits(), 0);
  EXPECT_EQ(m("nodeguard_cni_cache_entries", {{"state", "unverified"}}), 2);
  EXPECT_THAT(detail("unverified"), HasSubstr("k8s-pod-network/aaaa/eth0"));
  EXPECT_EQ(log_count("CNI cache entry unverified"), 2u);
}

TEST_F(CniComponentTest, BadFilesAreCountedAndLoggedOnceAndNeverTurnedIntoRules) {
  add("k8s-pod-network", "aaaa", json::array({testing::mapping(8080, 80)}));
  const std::string good =
      testing::cache_file("k8s-pod-network", "cccc", testing::conflist("k8s-pod-network"),
                          json::array({testing::mapping(9090, 90)}))
          .dump();
  store->write("k8s-pod-network-cccc-eth0", good.substr(0, good.size() / 2));  // truncated
  store->write("k8s-pod-network-dddd-eth0", "{\"kind\": nope}");
  store->write("k8s-pod-network-eeee-eth0",
               R"({"kind":"cniCacheV9","containerId":"eeee","networkName":"n","ifName":"eth0"})");
  json inner = testing::cache_file("k8s-pod-network", "ffff", json::object(),
                                   json::array({testing::mapping(9091, 90)}));
  inner["config"] = netfilter::base64_encode("{\"plugins\": [ {\"type\": \"portmap\"");
  store->write("k8s-pod-network-ffff-eth0", inner.dump());
  start();
  pass(2s);
  EXPECT_TRUE(nat().has(kDnA));
  for (const auto& r : rules("CNI-HOSTPORT-DNAT")) {
    EXPECT_THAT(r, HasSubstr("aaaa"));
  }
  EXPECT_EQ(m("nodeguard_cni_cache_files_skipped_total", {{"reason", "truncated"}}), 1);
  EXPECT_EQ(m("nodeguard_cni_cache_files_skipped_total", {{"reason", "malformed"}}), 2);
  EXPECT_EQ(m("nodeguard_cni_cache_files_skipped_total", {{"reason", "foreign_version"}}), 1);
  EXPECT_EQ(m("nodeguard_cni_cache_entries", {{"state", "invalid"}}), 4);
  EXPECT_EQ(log_count("CNI cache file skipped"), 4u);
  EXPECT_THAT(detail("skipped_files"), HasSubstr("k8s-pod-network-dddd-eth0"));
  // Looked at again and again: counted once per file version.
  pass(25s);
  EXPECT_EQ(m("nodeguard_cni_cache_files_skipped_total", {{"reason", "malformed"}}), 2);
  EXPECT_EQ(log_count("CNI cache file skipped"), 4u);
  // The truncated file completed: it is read and its rules rebuilt.
  store->write("k8s-pod-network-cccc-eth0", good);
  pass(2s);
  EXPECT_TRUE(nat().has(dnat_chain_name("k8s-pod-network", "cccc")));
  EXPECT_EQ(m("nodeguard_cni_cache_entries", {{"state", "invalid"}}), 3);
}

TEST_F(CniComponentTest, AFileCaughtMidWriteIsNotCounted) {
  start();
  store->set_now(
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock.wall_now().time_since_epoch())
          .count());
  const std::string good =
      testing::cache_file("k8s-pod-network", "aaaa", testing::conflist("k8s-pod-network"),
                          json::array({testing::mapping(8080, 80)}))
          .dump();
  store->write("k8s-pod-network-aaaa-eth0", good.substr(0, 40));
  pass(300ms);
  EXPECT_EQ(log_count("CNI cache file skipped"), 0u);
  store->write("k8s-pod-network-aaaa-eth0", good);
  pass(2s);
  EXPECT_EQ(m("nodeguard_cni_cache_files_skipped_total", {{"reason", "truncated"}}), 0);
  EXPECT_TRUE(nat().has(kDnA));
}

// A pod being deleted: portmap's DEL removes its chain and jump, then bridge and host-local run,
// then libcni removes the cache file. The guard waits its drift grace; the cache is looked at
// meanwhile, so the chain is not brought back.
TEST_F(CniComponentTest, APodBeingDeletedIsNotBroughtBack) {
  add("k8s-pod-network", "aaaa", json::array({testing::mapping(8080, 80)}));
  add("k8s-pod-network", "bbbb", json::array({testing::mapping(8081, 80)}), {}, kNetns,
      "10.244.1.3/24");
  start();
  pass(2s);
  ASSERT_TRUE(nat().has(kDnB));
  const int commits = fake->commits();
  std::string del = "*nat\n-F " + kDnB + "\n";
  for (const auto& r : rules("CNI-HOSTPORT-DNAT")) {
    if (r.find(kDnB) != std::string::npos) del += "-D CNI-HOSTPORT-DNAT " + r + "\n";
  }
  del += "-X " + kDnB + "\nCOMMIT\n";
  ASSERT_TRUE(fake->apply_restore(Family::kIPv4, del).ok());
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  clock.advance(150ms);  // bridge and host-local DEL
  store->remove("k8s-pod-network-bbbb-eth0");
  pass(3s);
  EXPECT_FALSE(nat().has(kDnB));
  EXPECT_EQ(fake->commits(), commits);
  EXPECT_TRUE(nat().has(kDnA));
  EXPECT_EQ(health.count_events("HostPortRulesRebuilt"), 1u);  // the start only
}

TEST_F(CniComponentTest, AChainThatDiffersFromTheCacheIsLeftAlone) {
  ASSERT_TRUE(
      fake->apply_restore(Family::kIPv4, "*nat\n:" + kDnA + " - [0:0]\n-A " + kDnA +
                                             " -p tcp -m tcp --dport 8080 -j DNAT --to-destination "
                                             "10.244.1.99:80\nCOMMIT\n")
          .ok());
  add("k8s-pod-network", "aaaa", json::array({testing::mapping(8080, 80)}));
  start();
  pass(2s);
  EXPECT_THAT(rules(kDnA), ::testing::ElementsAre("-p tcp -m tcp --dport 8080 -j DNAT "
                                                  "--to-destination 10.244.1.99:80"));
  EXPECT_EQ(m("nodeguard_cni_hostport_mismatched_chains", {{"family", "ipv4"}}), 1);
  EXPECT_THAT(detail("mismatched_ipv4"), HasSubstr(kDnA));
  EXPECT_EQ(log_count("hostPort chain differs from the CNI cache"), 1u);
}

TEST_F(CniComponentTest, AnAbsentExternalMarkChainIsWaitedFor) {
  add("k8s-pod-network", "aaaa", json::array({testing::mapping(8080, 80)}),
      {{"externalSetMarkChain", "KUBE-MARK-MASQ"}});
  start();
  pass(2s);
  EXPECT_FALSE(nat().has(kDnA));  // a jump to a missing chain would fail the whole commit
  EXPECT_THAT(detail("waiting_ipv4"), HasSubstr("KUBE-MARK-MASQ"));
  ASSERT_TRUE(fake->apply_restore(Family::kIPv4,
                                  "*nat\n:KUBE-MARK-MASQ - [0:0]\n-A KUBE-MARK-MASQ -j MARK "
                                  "--set-xmark 0x4000/0x4000\nCOMMIT\n")
                  .ok());
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  pass(2s);
  EXPECT_THAT(rules(kDnA),
              Contains("-s 10.244.1.0/24 -p tcp -m tcp --dport 8080 -j KUBE-MARK-MASQ"));
  EXPECT_FALSE(nat().has("CNI-HOSTPORT-SETMARK"));
}

TEST_F(CniComponentTest, DryRunRaisesTheConditionAfterTheGrace) {
  add("k8s-pod-network", "aaaa", json::array({testing::mapping(8080, 80)}));
  start("repair", /*dry_run=*/true);
  pass(3s);
  EXPECT_FALSE(nat().has(kDnA));
  EXPECT_FALSE(health.active("HostPortRulesMissing"));  // within cni.missing_grace (10 s)
  pass(10s);
  ASSERT_TRUE(health.active("HostPortRulesMissing"));
  EXPECT_THAT(health.conditions["HostPortRulesMissing"].message, HasSubstr("dry_run"));
}

TEST_F(CniComponentTest, AnUnreadableDirectoryDegradesAndKeepsWhatWasRead) {
  add("k8s-pod-network", "aaaa", json::array({testing::mapping(8080, 80)}));
  start();
  pass(2s);
  ASSERT_TRUE(nat().has(kDnA));
  store->set_list_error(core::EnvError{core::EnvErrorKind::kPermission, "permission denied"});
  pass(11s);
  EXPECT_EQ(cni->status().state, core::ComponentState::kDegraded);
  // Counted per look; after the first failure the directory is looked at every 10 s only.
  const double errors =
      m("nodeguard_environment_errors_total", {{"component", "cni"}, {"kind", "permission"}});
  EXPECT_GE(errors, 1);
  EXPECT_LE(errors, 2);
  // Still contributed: a flush is repaired with the container's rules.
  fake->flush_table(Family::kIPv4, "nat");
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  EXPECT_TRUE(nat().has(kDnA));
  store->set_list_error(std::nullopt);
  pass(11s);
  EXPECT_EQ(cni->status().state, core::ComponentState::kRunning);
}

TEST_F(CniComponentTest, NoResultsDirectoryIsNotAnError) {
  store->set_exists(false);
  start();
  pass(1s);
  EXPECT_EQ(cni->status().state, core::ComponentState::kRunning);
  EXPECT_THAT(cni->status().message, HasSubstr("no CNI results directory"));
}

}  // namespace
}  // namespace ng::netfilter::cni
