// The guard with the CNI cache's vouchers (snapshot_trust.h): a restart after a pod was deleted
// and the table flushed restores the live chains and not the dead pod's.
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

using namespace std::chrono_literals;

constexpr char kPod[] = "abc123def456";  // the one pod of cni-nft-ipv4.save
constexpr char kDnat[] = "CNI-DN-d3965bcbc3dd2fee4b494";
constexpr char kMasq[] = "CNI-d3965bcbc3dd2fee4b4941a6";
constexpr char kFile[] = "/state/netfilter/nft-ipv4-nat.rules";

class SnapshotTrustGuardTest : public ::testing::Test {
 protected:
  SnapshotTrustGuardTest() : env(registry, core::Logger(log_sink, core::LogLevel::kDebug)) {}

  void SetUp() override {
    fake = std::make_shared<testing::FakeNetfilterBackend>(BackendKind::kNft);
    fake->load(Family::kIPv4, testing::netfilter_data("cni-nft-ipv4.save"));
  }
  void settle() {
    while (loop.pending() || workers.pending()) {
      workers.run_all();
      loop.run_all();
    }
  }
  void start(bool expect_vouchers = false) {
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
    if (expect_vouchers) guard->expect_pod_vouchers();
    guard->start();
    settle();
    ASSERT_TRUE(guard->started());
  }
  // The agent stops, the pod is deleted the normal way, a reload flushes nat.
  void restart_scene() {
    start();
    guard->stop();
    guard.reset();
    fake->flush_table(Family::kIPv4, "nat");
  }
  Table nat() { return *fake->read(Family::kIPv4, "nat"); }
  size_t rules_of_pod() {
    size_t n = 0;
    for (const auto& c : nat().chains) {
      for (const auto& r : c.rules) n += r.spec.find(kPod) != std::string::npos;
    }
    return n;
  }
  std::shared_ptr<PodVouchers> vouchers(std::set<std::string> live) {
    auto v = std::make_shared<PodVouchers>();
    v->cache_readable = true;
    v->vouched = std::move(live);
    return v;
  }
  double pruned(const std::string& reason) {
    for (const auto& f : registry.Collect()) {
      if (f.name != "nodeguard_netfilter_snapshot_pruned_total") continue;
      for (const auto& m : f.metric) {
        if (m.label.size() == 1 && m.label[0].value == reason) return m.counter.value;
      }
    }
    return -1;
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
  std::unique_ptr<Guard> guard;
};

TEST_F(SnapshotTrustGuardTest, SnapshotsRecordWhenTheyWereTaken) {
  start();
  auto snap = decode_snapshot(files.contents()[kFile]);
  ASSERT_TRUE(snap.ok());
  ASSERT_TRUE(snap->header.taken_at);
  EXPECT_EQ(*snap->header.taken_at,
            std::chrono::time_point_cast<std::chrono::seconds>(clock.wall_now()));
}

TEST_F(SnapshotTrustGuardTest, DeadPodIsDroppedNotRestoredAfterTheCacheAnswered) {
  restart_scene();
  start(true);
  EXPECT_TRUE(log_sink->contains("netfilter guard waits for the CNI cache"));
  EXPECT_FALSE(nat().has("KUBE-SERVICES"));  // held: nothing repaired from the snapshot yet
  guard->set_pod_vouchers(vouchers({}));
  settle();
  EXPECT_TRUE(nat().has("KUBE-SERVICES"));  // the rest comes back
  EXPECT_TRUE(nat().has("CNI-HOSTPORT-DNAT"));
  EXPECT_FALSE(nat().has(kDnat));
  EXPECT_FALSE(nat().has(kMasq));
  EXPECT_EQ(rules_of_pod(), 0u);
  EXPECT_TRUE(log_sink->contains("snapshot entry dropped; its pod is gone"));
  EXPECT_EQ(pruned("no_cache_entry"), 2);
  EXPECT_EQ(files.contents()[kFile].find(kPod), std::string::npos);  // gone from disk too
  EXPECT_EQ(health.count_events("NetfilterSnapshotPruned"), 1u);
  // Logged once: another flush does not report it again.
  fake->flush_table(Family::kIPv4, "nat");
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  EXPECT_TRUE(nat().has("KUBE-SERVICES"));
  EXPECT_EQ(pruned("no_cache_entry"), 2);
}

TEST_F(SnapshotTrustGuardTest, VouchedPodComesBack) {
  restart_scene();
  start(true);
  guard->set_pod_vouchers(vouchers({kPod}));
  settle();
  EXPECT_TRUE(nat().has(kDnat));
  EXPECT_TRUE(nat().has(kMasq));
  EXPECT_EQ(rules_of_pod(), 4u);
  EXPECT_EQ(pruned("no_cache_entry"), 0);
}

TEST_F(SnapshotTrustGuardTest, TheWaitForTheCacheIsBounded) {
  restart_scene();
  start(true);
  EXPECT_FALSE(nat().has("KUBE-SERVICES"));
  clock.advance(5s);
  settle();
  EXPECT_TRUE(log_sink->contains("CNI cache did not answer in time"));
  EXPECT_TRUE(nat().has(kDnat));  // a fresh snapshot with nobody to ask: trusted as it is
}

TEST_F(SnapshotTrustGuardTest, OldSnapshotRestoresNoPodNobodyVouchesFor) {
  restart_scene();
  clock.advance(16min);  // the agent was down longer than snapshot_max_age
  start();
  EXPECT_TRUE(nat().has("KUBE-SERVICES"));
  EXPECT_FALSE(nat().has(kDnat));
  EXPECT_EQ(rules_of_pod(), 0u);
  EXPECT_EQ(pruned("unvouched_old"), 2);
}

TEST_F(SnapshotTrustGuardTest, PodDeletedWhileRunningIsAcceptedNotReported) {
  start();
  guard->set_pod_vouchers(vouchers({}));
  (void)fake->apply_restore(Family::kIPv4,
                            std::string("*nat\n-D POSTROUTING -s 10.244.1.2/32 -m comment "
                                        "--comment \"name: \\\"k8s-pod-network\\\" id: "
                                        "\\\"abc123def456\\\"\" -j ") +
                                kMasq + "\n-F " + kMasq + "\n-X " + kMasq + "\nCOMMIT\n");
  guard->notify_changed(BackendKind::kNft, Family::kIPv4, "nat");
  settle();
  EXPECT_FALSE(nat().has(kMasq));
  EXPECT_FALSE(log_sink->contains("snapshot entry dropped"));
}

}  // namespace
}  // namespace ng::netfilter
