// The guard names the writer of every drift (issue 19): log line, event, view, bounded metric
// label; and reports mixed firewall modes as conditions.
#include <gmock/gmock.h>
#include <prometheus/registry.h>

#include "netfilter/guard.h"
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

// The NftMonitor's part for the guard: change notifications and the last writer per table.
class FakeChangeSource final : public ChangeSource {
 public:
  core::Status start(std::function<void(Family, const std::string&)> on_change,
                     std::function<void(bool)> on_lost) override {
    on_change_ = std::move(on_change);
    (void)on_lost;
    return core::Ok{};
  }
  void stop() override {}
  std::optional<ChangeWriter> last_writer(Family, const std::string& table) const override {
    auto it = writers.find(table);
    if (it == writers.end()) return std::nullopt;
    return it->second;
  }
  std::function<void(Family, const std::string&)> on_change_;
  std::map<std::string, ChangeWriter> writers;
};

const core::HealthEvent* last_event(const testing::RecordingHealthSink& h, const std::string& r) {
  const core::HealthEvent* out = nullptr;
  for (const auto& e : h.events) {
    if (e.reason == r) out = &e;
  }
  return out;
}

class GuardWriterTest : public ::testing::Test {
 protected:
  GuardWriterTest() : env(registry, core::Logger(log_sink, core::LogLevel::kDebug)) {}

  GuardOptions options(BackendKind kind) {
    GuardOptions o;
    o.backend_mode = std::string(to_string(kind));
    o.families = {Family::kIPv4};
    o.policy = testing::default_guard_policy();
    o.lock_path = tmp / "xtables.lock";
    o.drift_grace = 0s;
    return o;
  }
  void start(BackendKind kind, std::vector<std::shared_ptr<Backend>> backends,
             std::unique_ptr<ChangeSource> source = nullptr) {
    guard = std::make_unique<Guard>(
        options(kind), std::move(backends),
        Guard::Deps{clock, loop, workers, files, health, env, registry,
                    core::Logger(log_sink, core::LogLevel::kDebug).with_component("netfilter")},
        std::move(source));
    if (lister) guard->set_native_table_lister(lister);
    guard->start();
    settle();
    ASSERT_TRUE(guard->started());
    clock.advance(2s);  // the first mixed-mode scan waits for start-up to settle
    settle();
  }
  void settle() {
    while (loop.pending() || workers.pending()) {
      workers.run_all();
      loop.run_all();
    }
  }
  TableView view(const std::string& table) {
    for (auto& t : guard->view().tables) {
      if (t.key.table == table) return t;
    }
    return {};
  }
  double m(const std::string& name, std::map<std::string, std::string> labels) {
    return metric_sum(registry, name, std::move(labels));
  }

  testing::TempDir tmp;
  testing::FakeClock clock;
  testing::ManualExecutor loop, workers;
  testing::FakeFiles files;
  testing::RecordingHealthSink health;
  prometheus::Registry registry;
  std::shared_ptr<core::MemoryLogSink> log_sink = std::make_shared<core::MemoryLogSink>();
  core::EnvErrorReporter env;
  Guard::NativeTableLister lister;
  std::unique_ptr<Guard> guard;
};

TEST_F(GuardWriterTest, NftDriftNamesTheWriterEverywhere) {
  auto fake = std::make_shared<testing::FakeNetfilterBackend>(BackendKind::kNft);
  fake->load(Family::kIPv4, testing::netfilter_data("cni-nft-ipv4.save"));
  auto src = std::make_unique<FakeChangeSource>();
  FakeChangeSource* events = src.get();
  start(BackendKind::kNft, {fake}, std::move(src));

  events->writers["nat"] = ChangeWriter{9, 4242, "nft", "nftables.service", ""};
  fake->flush_table(Family::kIPv4, "nat");
  events->on_change_(Family::kIPv4, "nat");
  settle();

  const auto* drift = last_event(health, "NetfilterDrift");
  ASSERT_NE(drift, nullptr);
  EXPECT_EQ(drift->attributes.at("writer_pid"), "4242");
  EXPECT_EQ(drift->attributes.at("writer_comm"), "nft");
  EXPECT_EQ(drift->attributes.at("writer_unit"), "nftables.service");
  EXPECT_THAT(drift->message, HasSubstr("by nft (pid 4242, unit nftables.service)"));
  const auto* repaired = last_event(health, "NetfilterRepaired");
  ASSERT_NE(repaired, nullptr);
  EXPECT_EQ(repaired->attributes.at("writer_comm"), "nft");
  EXPECT_TRUE(log_sink->contains(R"("writer_pid":4242,"writer_comm":"nft")"));
  bool repair_line = false;
  for (const auto& l : log_sink->lines()) {
    repair_line = repair_line || (l.find("\"repair applied\"") != std::string::npos &&
                                  l.find("\"writer_comm\":\"nft\"") != std::string::npos);
  }
  EXPECT_TRUE(repair_line);
  EXPECT_EQ(m("nodeguard_netfilter_drift_events_total", {{"kind", "flush"}, {"writer", "nft"}}), 1);
  EXPECT_EQ(m("nodeguard_netfilter_repairs_total", {{"result", "applied"}, {"writer", "nft"}}), 1);
  auto v = view("nat");
  ASSERT_TRUE(v.last_writer);
  EXPECT_EQ(v.last_writer->pid, 4242u);
  ASSERT_TRUE(v.drift_writer);
  EXPECT_EQ(v.drift_writer->unit, "nftables.service");
  EXPECT_EQ(v.writer_note, "");
}

TEST_F(GuardWriterTest, NftWriterOfAContainerAndALabelCap) {
  auto fake = std::make_shared<testing::FakeNetfilterBackend>(BackendKind::kNft);
  fake->load(Family::kIPv4, testing::netfilter_data("cni-nft-ipv4.save"));
  auto src = std::make_unique<FakeChangeSource>();
  FakeChangeSource* events = src.get();
  start(BackendKind::kNft, {fake}, std::move(src));
  const std::string id(64, 'a');
  events->writers["nat"] = ChangeWriter{3, 77, "iptables-nft-re", "", id};
  fake->flush_table(Family::kIPv4, "nat");
  events->on_change_(Family::kIPv4, "nat");
  settle();
  const auto* drift = last_event(health, "NetfilterDrift");
  ASSERT_NE(drift, nullptr);
  EXPECT_EQ(drift->attributes.at("writer_container"), id);
  EXPECT_THAT(drift->message, HasSubstr("container aaaaaaaaaaaa)"));
  EXPECT_EQ(m("nodeguard_netfilter_drift_events_total", {{"writer", "iptables-nft-re"}}), 1);
}

TEST_F(GuardWriterTest, LegacyWriterIsUnknownAndSaysWhy) {
  auto fake = std::make_shared<testing::FakeNetfilterBackend>(BackendKind::kLegacy);
  fake->load(Family::kIPv4, testing::netfilter_data("cni-legacy-ipv4.save"));
  start(BackendKind::kLegacy, {fake});
  fake->flush_table(Family::kIPv4, "nat");
  clock.advance(150ms);  // the poll notices the change token
  settle();
  const auto* drift = last_event(health, "NetfilterDrift");
  ASSERT_NE(drift, nullptr);
  EXPECT_EQ(drift->attributes.at("writer"),
            "writer unknown (legacy iptables has no change record)");
  EXPECT_EQ(drift->attributes.count("writer_pid"), 0u);
  EXPECT_THAT(drift->message, HasSubstr("writer unknown (legacy iptables has no change record)"));
  EXPECT_TRUE(log_sink->contains("legacy iptables has no change record"));
  EXPECT_EQ(m("nodeguard_netfilter_drift_events_total", {{"writer", "unknown"}}), 1);
  EXPECT_EQ(m("nodeguard_netfilter_repairs_total", {{"result", "applied"}, {"writer", "unknown"}}),
            1);
  auto v = view("nat");
  EXPECT_FALSE(v.last_writer);
  EXPECT_EQ(v.writer_note, "writer unknown (legacy iptables has no change record)");
}

TEST_F(GuardWriterTest, BothBackendsHoldingRulesIsACondition) {
  auto nft = std::make_shared<testing::FakeNetfilterBackend>(BackendKind::kNft);
  nft->load(Family::kIPv4, testing::netfilter_data("cni-nft-ipv4.save"));
  auto legacy = std::make_shared<testing::FakeNetfilterBackend>(BackendKind::kLegacy);
  legacy->load(Family::kIPv4, "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -j ACCEPT\nCOMMIT\n");
  start(BackendKind::kNft, {nft, legacy});
  ASSERT_TRUE(health.active(kIptablesBackendsMixed));
  EXPECT_THAT(health.conditions[kIptablesBackendsMixed].message, HasSubstr("legacy/ipv4/filter"));
  EXPECT_FALSE(health.active(kIptablesNftIncompatible));
  // The legacy rules go away: cleared at the next verify.
  legacy->flush_table(Family::kIPv4, "filter");
  clock.advance(61s);
  settle();
  EXPECT_FALSE(health.active(kIptablesBackendsMixed));
}

TEST_F(GuardWriterTest, KubeProxyNftablesBesideCalicoIptables) {
  auto nft = std::make_shared<testing::FakeNetfilterBackend>(BackendKind::kNft);
  nft->load(Family::kIPv4,
            "*filter\n:INPUT ACCEPT [0:0]\n:cali-INPUT - [0:0]\n"
            "-A INPUT -j cali-INPUT\nCOMMIT\n");
  lister = [] {
    return core::Result<std::vector<std::string>>(
        std::vector<std::string>{"ip filter", "ip kube-proxy"});
  };
  start(BackendKind::kNft, {nft});
  ASSERT_TRUE(health.active(kKubeProxyNftablesCalicoIptables));
  EXPECT_THAT(health.conditions[kKubeProxyNftablesCalicoIptables].message,
              HasSubstr("calico#8025"));
}

TEST_F(GuardWriterTest, IncompatibleTableIsReportedNotRepaired) {
  auto nft = std::make_shared<testing::FakeNetfilterBackend>(BackendKind::kNft);
  nft->load(Family::kIPv4, testing::netfilter_data("cni-nft-ipv4.save"));
  nft->set_read_error(core::EnvError{
      core::EnvErrorKind::kInvalidInput,
      "iptables-nft-save -t nat: Table `nat' is incompatible, use 'nft' tool. (native ...)"});
  start(BackendKind::kNft, {nft});
  ASSERT_TRUE(health.active(kIptablesNftIncompatible));
  EXPECT_THAT(health.conditions[kIptablesNftIncompatible].message, HasSubstr("nft/ipv4/nat"));
  EXPECT_EQ(health.count_events("NetfilterRepaired"), 0u);
}

}  // namespace
}  // namespace ng::netfilter
