// NftListenGate against a fake kernel: the monitor leaves the group for our own batches, joins
// again after the last one, and reports lost events exactly when the generation moved by more
// than our own commits.
#include "netfilter/nft/nft_listen_gate.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace ng::netfilter {
namespace {

struct FakeKernel {
  static inline bool listening = true;
  static inline int listen_calls = 0;
  static inline std::uint32_t gen = 100;
  static inline int genid_error = 0;
  static inline bool listening_at_read = false;
  static int listen(int, int on) {
    ++listen_calls;
    listening = on != 0;
    return 0;
  }
  static int genid(ngnft_sock*, std::uint32_t* g) {
    if (genid_error) return -genid_error;
    listening_at_read = listening;
    *g = gen;
    return 0;
  }
};

class NftListenGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FakeKernel::listening = true;
    FakeKernel::listen_calls = 0;
    FakeKernel::gen = 100;
    FakeKernel::genid_error = 0;
    gate.attach(
        7, [this] { ++lost; }, [this] { ++deaf; });
  }
  ngnft_sock* sock = reinterpret_cast<ngnft_sock*>(0x1);  // never dereferenced by the fake
  NftListenGate gate{NftListenGate::Kernel{FakeKernel::listen, FakeKernel::genid}};
  int lost = 0;
  int deaf = 0;  // a pause that may have hidden a write in flight: re-check quietly
};

TEST_F(NftListenGateTest, OurOwnCommitIsNotHeardAndNotLost) {
  ASSERT_TRUE(gate.pause(sock));
  EXPECT_FALSE(FakeKernel::listening);
  ++FakeKernel::gen;  // our batch
  gate.resume(sock, true);
  EXPECT_TRUE(FakeKernel::listening);
  EXPECT_FALSE(gate.paused());
  EXPECT_EQ(lost, 0);
  // A commit in flight when we left moved the generation before our baseline but sends its
  // notifications after: the gate cannot tell, so every clean pause asks for a quiet re-check.
  EXPECT_EQ(deaf, 1);
}

// The baseline generation is read while still listening: a write between leaving the group and
// reading it would be neither heard nor counted (found by a two-table flush racing a repair).
TEST_F(NftListenGateTest, TheBaselineIsReadBeforeLeavingTheGroup) {
  ASSERT_TRUE(gate.pause(sock));
  EXPECT_TRUE(FakeKernel::listening_at_read);
  EXPECT_FALSE(FakeKernel::listening);
  ++FakeKernel::gen;  // someone else's write right after we left: unheard, so reported lost
  gate.resume(sock, false);
  EXPECT_EQ(lost, 1);
}

TEST_F(NftListenGateTest, AForeignWriteWhileDeafIsReportedLost) {
  ASSERT_TRUE(gate.pause(sock));
  FakeKernel::gen += 2;  // ours and someone else's
  gate.resume(sock, true);
  EXPECT_TRUE(FakeKernel::listening);
  EXPECT_EQ(lost, 1);
}

TEST_F(NftListenGateTest, ARefusedBatchThatMovedNothingIsNotLost) {
  ASSERT_TRUE(gate.pause(sock));
  gate.resume(sock, false);
  EXPECT_EQ(lost, 0);
  ASSERT_TRUE(gate.pause(sock));
  ++FakeKernel::gen;  // we thought it failed (lost reply) but something committed
  gate.resume(sock, false);
  EXPECT_EQ(lost, 1);
}

TEST_F(NftListenGateTest, OverlappingWritersJoinAgainAfterTheLast) {
  ASSERT_TRUE(gate.pause(sock));
  ASSERT_TRUE(gate.pause(sock));
  EXPECT_EQ(FakeKernel::listen_calls, 1);
  ++FakeKernel::gen;
  gate.resume(sock, true);
  EXPECT_FALSE(FakeKernel::listening);  // the other batch is still in flight
  ++FakeKernel::gen;
  gate.resume(sock, true);
  EXPECT_TRUE(FakeKernel::listening);
  EXPECT_EQ(lost, 0);
}

TEST_F(NftListenGateTest, WithoutAMonitorOrAGenerationNothingPauses) {
  FakeKernel::genid_error = EPERM;
  EXPECT_FALSE(gate.pause(sock));
  EXPECT_TRUE(FakeKernel::listening);  // never left
  FakeKernel::genid_error = 0;
  gate.detach();
  const int calls = FakeKernel::listen_calls;
  EXPECT_FALSE(gate.pause(sock));
  EXPECT_EQ(FakeKernel::listen_calls, calls);
  gate.resume(sock, true);  // no pause: nothing
  EXPECT_EQ(lost, 0);
}

TEST_F(NftListenGateTest, MonitorStoppedOrRestartedDuringAPause) {
  ASSERT_TRUE(gate.pause(sock));
  gate.detach();
  gate.resume(sock, true);
  EXPECT_EQ(lost, 0);  // nobody to tell; the new monitor starts subscribed
  gate.attach(8, [this] { ++lost; });
  ASSERT_TRUE(gate.pause(sock));
  gate.attach(9, [this] { ++lost; });  // restarted meanwhile: its baseline is unknown
  ++FakeKernel::gen;
  gate.resume(sock, true);
  EXPECT_EQ(lost, 1);
}

}  // namespace
}  // namespace ng::netfilter
