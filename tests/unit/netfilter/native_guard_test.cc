// NativeTableGuard on the stateful fake backend: wipes by others are restored, owners' changes
// (element adds and deletes, their own deletions) are learned, reads wait for the generations
// they include, a restore that races another transaction retries, one that does not read back
// is reported once and not retried in a loop.
#include <gtest/gtest.h>

#include <linux/netfilter/nf_tables.h>
#include <prometheus/registry.h>

#include "core/env_error_reporter.h"
#include "netfilter/native/native_table_guard.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_native_backend.h"
#include "tests/fakes/manual_executor.h"
#include "tests/fakes/recording_health_sink.h"
#include "tests/unit/netfilter/native_capture.h"

namespace ng::netfilter::native {
namespace {

using namespace std::chrono_literals;
using ng::testing::native_capture;
using ng::testing::without;

const NftTableRef kKp{2, "kube-proxy"};
constexpr std::uint32_t kSelfPid = 1;

class NativeGuardTest : public ::testing::Test {
 protected:
  NativeGuardTest() : env_(registry_, core::Logger::discard()) {
    backend_ = std::make_shared<ng::testing::FakeNativeBackend>();
    good_ = native_capture("kube-proxy", 2);
    backend_->set(kKp, good_);
  }

  void make(bool dry_run = false) {
    NativeTablesConfig c;
    c.tables = {"ip kube-proxy kube-proxy", "ip calico calico-node"};
    guard_ = std::make_unique<NativeTableGuard>(
        c, true, dry_run, backend_, nullptr,
        NativeTableGuard::Deps{clock_, health_, env_, registry_, core::Logger::discard(), loop_,
                               workers_, [](std::uint32_t pid) { return pid == kSelfPid; },
                               [this](std::uint32_t pid) { return parents_[pid]; }});
    guard_->start();
    settle();
  }

  // Runs workers and loop until nothing is left, then fires due timers, repeatedly.
  void settle(core::Duration advance = 1s) {
    for (int i = 0; i < 20; ++i) {
      while (workers_.run_all() + loop_.run_all() > 0) {
      }
      clock_.advance(advance / 20);
    }
    while (workers_.run_all() + loop_.run_all() > 0) {
    }
  }

  // The monitor heard a transaction: the fake's current generation, by pid/comm.
  void heard(std::uint32_t pid, std::string comm, std::vector<int> msgs, NftTableRef t = kKp) {
    NftGeneration g;
    g.writer.genid = backend_->genid;
    g.writer.pid = pid;
    g.writer.comm = std::move(comm);
    NftTouchedTable touched{t, 0};
    for (int m : msgs) touched.msgs |= 1ull << m;
    g.tables.push_back(touched);
    guard_->on_generation(g);
  }

  NativeTableView view(const std::string& name = "kube-proxy") {
    for (auto& v : guard_->tables()) {
      if (v.name == name) return v;
    }
    return {};
  }

  double counter(const std::string& name, const std::map<std::string, std::string>& want) {
    double sum = 0;
    for (const auto& f : registry_.Collect()) {
      if (f.name != name) continue;
      for (const auto& m : f.metric) {
        bool match = true;
        for (const auto& [k, v] : want) {
          bool found = false;
          for (const auto& l : m.label) found |= l.name == k && l.value == v;
          match &= found;
        }
        if (match) sum += m.counter.value;
      }
    }
    return sum;
  }

  prometheus::Registry registry_;
  core::EnvErrorReporter env_;
  ng::testing::FakeClock clock_;
  ng::testing::ManualExecutor loop_, workers_;
  ng::testing::RecordingHealthSink health_;
  std::shared_ptr<ng::testing::FakeNativeBackend> backend_;
  std::map<std::uint32_t, std::string> parents_;
  NativeTableSnapshot good_;
  std::unique_ptr<NativeTableGuard> guard_;
};

TEST_F(NativeGuardTest, FirstSightIsLearnedAbsentTablesAreNotCreated) {
  make();
  EXPECT_EQ(view().state, "guarded");
  EXPECT_EQ(view().counts.chains, good_.counts.chains);
  EXPECT_EQ(view("calico").state, "absent");
  EXPECT_EQ(backend_->restores, 0);
  EXPECT_EQ(backend_->tables.count({2, "calico"}), 0u);
}

TEST_F(NativeGuardTest, AFailedFirstReadIsRetriedWithoutAnyTransaction) {
  backend_->dump_error = core::EnvError::from_errno(EBUSY, "dump of table ip kube-proxy");
  make();
  EXPECT_EQ(view().state, "unseen");
  EXPECT_FALSE(view().last_error.empty());
  const int failed = backend_->dumps;
  backend_->dump_error.reset();  // the kernel answers again; nobody touches the table
  settle(2s);
  EXPECT_GT(backend_->dumps, failed);
  EXPECT_EQ(view().state, "guarded");
  EXPECT_EQ(guard_->status().state, core::ComponentState::kRunning);
}

TEST_F(NativeGuardTest, RetriesOfAFailingReadBackOff) {
  backend_->dump_error = core::EnvError::from_errno(EBUSY, "dump of table ip kube-proxy");
  make();
  settle(60s);  // 0.5 + 1 + 2 + ... capped at 30 s: a handful of reads per table, not hundreds
  EXPECT_LE(backend_->dumps, 2 * 8);
  EXPECT_GE(backend_->dumps, 2 * 4);
}

TEST_F(NativeGuardTest, ForeignDeleteIsRestoredAndAttributed) {
  make();
  backend_->set(kKp, std::nullopt);  // nft delete table ip kube-proxy
  heard(6724, "nft", {NFT_MSG_DELTABLE, NFT_MSG_DELCHAIN, NFT_MSG_DELRULE});
  settle();
  ASSERT_EQ(backend_->tables.count(kKp), 1u);
  EXPECT_TRUE(same_native_table(backend_->tables[kKp], good_));
  EXPECT_EQ(view().state, "guarded");
  EXPECT_EQ(view().repairs, 1u);
  EXPECT_EQ(health_.count_events("NativeTableWiped"), 1u);
  EXPECT_EQ(health_.count_events("NativeTableRestored"), 1u);
  EXPECT_EQ(health_.events.front().attributes.at("writer_comm"), "nft");
  EXPECT_EQ(health_.events.front().attributes.at("writer_pid"), "6724");
  EXPECT_EQ(counter("nodeguard_netfilter_drift_events_total", {{"backend", "nftables"},
                                                               {"table", "ip kube-proxy"},
                                                               {"kind", "table_deleted"},
                                                               {"writer", "nft"}}),
            1);
  EXPECT_EQ(counter("nodeguard_netfilter_repairs_total",
                    {{"backend", "nftables"}, {"result", "applied"}, {"writer", "nft"}}),
            1);
  EXPECT_FALSE(health_.active("NativeTableWiped"));
  // Our own restore's generation is ignored: no second repair, no re-read loop.
  const int dumps = backend_->dumps;
  heard(kSelfPid, "nodeguard", {NFT_MSG_NEWTABLE});
  settle();
  EXPECT_EQ(backend_->restores, 1);
  EXPECT_EQ(backend_->dumps, dumps);
}

TEST_F(NativeGuardTest, FlushAndFlushRulesetShapesAreRestored) {
  make();
  backend_->set(kKp, without(good_, [](auto& m) { return m.kind == NativeKind::kRule; }));
  heard(77, "nft", {NFT_MSG_DELRULE});
  settle();
  EXPECT_TRUE(same_native_table(backend_->tables[kKp], good_));
  backend_->set(kKp, without(good_, [](auto& m) { return m.kind != NativeKind::kTable; }));
  heard(78, "ansible-playboo", {NFT_MSG_DELCHAIN, NFT_MSG_DELSET});
  settle();
  EXPECT_TRUE(same_native_table(backend_->tables[kKp], good_));
  EXPECT_EQ(view().repairs, 2u);
  EXPECT_EQ(counter("nodeguard_netfilter_drift_events_total", {{"writer", "other"}}), 1);
}

TEST_F(NativeGuardTest, OwnerChangesAreLearnedNotUndone) {
  make();
  // kube-proxy (through its nft child) drops elements: learned after the coalescing delay.
  auto fewer = without(good_, [](auto& m) { return m.kind == NativeKind::kElements; });
  parents_[900] = "kube-proxy";
  backend_->set(kKp, fewer);
  heard(900, "nft", {NFT_MSG_DELSETELEM});
  settle();
  EXPECT_EQ(backend_->restores, 0);
  EXPECT_EQ(view().counts.elements, 0u);
  // A later foreign wipe restores the learned state, not the first one.
  backend_->set(kKp, std::nullopt);
  heard(6724, "nft", {NFT_MSG_DELTABLE});
  settle();
  EXPECT_TRUE(same_native_table(backend_->tables[kKp], fewer));
  // The owner deleting its own table: learned, never recreated.
  backend_->set(kKp, std::nullopt);
  heard(901, "kube-proxy", {NFT_MSG_DELTABLE});
  settle();
  EXPECT_EQ(backend_->tables.count(kKp), 0u);
  EXPECT_EQ(view().state, "absent");
  EXPECT_EQ(backend_->restores, 1);
}

TEST_F(NativeGuardTest, ForeignNonWipeChangesAreLearnedToo) {
  make();
  auto fewer = without(good_, [](auto& m) { return m.kind == NativeKind::kElements; });
  backend_->set(kKp, fewer);
  heard(55, "nft", {NFT_MSG_DELSETELEM});
  settle();
  EXPECT_EQ(backend_->restores, 0);
  EXPECT_EQ(view().counts.elements, 0u);
}

TEST_F(NativeGuardTest, AReadWaitsForTheGenerationsItIncludes) {
  make();
  // An owner write is heard; before its coalesced read runs, someone wipes the table, and the
  // read sees the wipe before the monitor has heard it: it must not be learned as the owner's.
  parents_[900] = "kube-proxy";
  backend_->set(kKp, good_);
  heard(900, "nft", {NFT_MSG_NEWSETELEM});
  backend_->set(kKp, std::nullopt);
  clock_.advance(1s);  // the coalesced read fires
  while (workers_.run_all() + loop_.run_all() > 0) {
  }
  EXPECT_EQ(backend_->tables.count(kKp), 0u);  // parked, not judged
  heard(6724, "nft", {NFT_MSG_DELTABLE});
  settle();
  EXPECT_EQ(backend_->tables.count(kKp), 1u);
  EXPECT_EQ(view().repairs, 1u);
}

TEST_F(NativeGuardTest, UnheardGenerationsFallBackToWriterUnknown) {
  make();
  heard(900, "kube-proxy", {NFT_MSG_NEWRULE});  // last heard = current genid
  backend_->set(kKp, std::nullopt);             // never heard (a lost notification)
  guard_->recheck();
  settle(5s);
  EXPECT_EQ(backend_->tables.count(kKp), 1u);
  EXPECT_EQ(counter("nodeguard_netfilter_drift_events_total", {{"writer", "unknown"}}), 1);
}

TEST_F(NativeGuardTest, RacedRestoreRetriesWhileStillWiped) {
  make();
  backend_->set(kKp, std::nullopt);
  int races = 1;
  backend_->before_restore = [&] {
    if (races-- > 0) ++backend_->genid;  // an unrelated transaction lands first
  };
  heard(6724, "nft", {NFT_MSG_DELTABLE});
  settle();
  EXPECT_EQ(backend_->restores, 2);
  EXPECT_TRUE(same_native_table(backend_->tables[kKp], good_));
}

TEST_F(NativeGuardTest, AWriteRightAfterTheRestoreIsJudgedOnItsOwn) {
  make();
  backend_->set(kKp, std::nullopt);
  bool once = true;
  backend_->after_restore = [&] {
    if (once) backend_->set(kKp, std::nullopt);  // wiped again before the read-back
    once = false;
  };
  heard(6724, "nft", {NFT_MSG_DELTABLE});
  settle();
  EXPECT_EQ(counter("nodeguard_netfilter_repairs_total", {{"result", "verify_failed"}}), 0);
  heard(6725, "nft", {NFT_MSG_DELTABLE});  // the second wipe, heard
  settle();
  EXPECT_EQ(backend_->restores, 2);
  EXPECT_TRUE(same_native_table(backend_->tables[kKp], good_));
}

TEST_F(NativeGuardTest, AWipeBuriedUnderOwnerTransactionsIsStillRepaired) {
  make();
  backend_->set(kKp, std::nullopt);
  heard(6724, "nft", {NFT_MSG_DELTABLE});
  for (size_t i = 0; i < NativeTableGuard::kMaxPendingWriters + 6; ++i) {
    ++backend_->genid;  // the owner's transactions elsewhere in its (absent) table
    heard(900, "kube-proxy", {NFT_MSG_NEWSETELEM});
  }
  settle();
  EXPECT_EQ(backend_->tables.count(kKp), 1u);
  EXPECT_EQ(view().repairs, 1u);
}

TEST_F(NativeGuardTest, VerifyFailureIsReportedOnceNotLooped) {
  make();
  backend_->corrupt_restore = true;
  backend_->set(kKp, std::nullopt);
  heard(6724, "nft", {NFT_MSG_DELTABLE});
  settle(10s);
  EXPECT_EQ(backend_->restores, 1);
  EXPECT_EQ(view().state, "failed");
  EXPECT_TRUE(health_.active("NativeTableWiped"));
  EXPECT_EQ(counter("nodeguard_netfilter_repairs_total", {{"result", "verify_failed"}}), 1);
  EXPECT_EQ(guard_->status().state, core::ComponentState::kDegraded);
}

TEST_F(NativeGuardTest, FailedRestoreKeepsTheConditionUntilRepairRequest) {
  make();
  backend_->fail_restore = true;
  backend_->set(kKp, std::nullopt);
  heard(6724, "nft", {NFT_MSG_DELTABLE});
  settle();
  EXPECT_TRUE(health_.active("NativeTableWiped"));
  EXPECT_EQ(health_.count_events("NativeTableRestoreFailed"), 1u);
  backend_->fail_restore = false;
  guard_->recheck();  // ngctl repair
  settle();
  EXPECT_TRUE(same_native_table(backend_->tables[kKp], good_));
  EXPECT_FALSE(health_.active("NativeTableWiped"));
}

TEST_F(NativeGuardTest, DryRunReportsAndTouchesNothing) {
  make(true);
  backend_->set(kKp, std::nullopt);
  heard(6724, "nft", {NFT_MSG_DELTABLE});
  settle();
  EXPECT_EQ(backend_->restores, 0);
  EXPECT_EQ(counter("nodeguard_netfilter_repairs_total", {{"result", "dry_run"}}), 1);
  EXPECT_TRUE(health_.active("NativeTableWiped"));
}

TEST_F(NativeGuardTest, WriterLabelIsBounded) {
  make();
  ChangeWriter w;
  EXPECT_EQ(guard_->writer_label(w), "unknown");
  w.pid = 5;
  w.comm = "kube-proxy";
  EXPECT_EQ(guard_->writer_label(w), "kube-proxy");
  w.comm = "nft";
  EXPECT_EQ(guard_->writer_label(w), "nft");
  w.comm = "random-tool";
  EXPECT_EQ(guard_->writer_label(w), "other");
}

}  // namespace
}  // namespace ng::netfilter::native
