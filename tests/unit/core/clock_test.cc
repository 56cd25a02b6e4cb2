#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "core/asio_clock.h"
#include "tests/fakes/fake_clock.h"

namespace ng {
namespace {

using namespace std::chrono_literals;

TEST(FakeClock, FiresTimersInDeadlineOrderAtTheirDeadline) {
  testing::FakeClock clock;
  auto a = clock.make_timer();
  auto b = clock.make_timer();
  std::vector<std::pair<char, core::MonoTime>> fired;
  const auto start = clock.now();
  a->arm(30ms, [&] { fired.push_back({'a', clock.now()}); });
  b->arm(10ms, [&] { fired.push_back({'b', clock.now()}); });
  clock.advance(20ms);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].first, 'b');
  EXPECT_EQ(fired[0].second, start + 10ms);
  clock.advance(20ms);
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[1].first, 'a');
  EXPECT_EQ(fired[1].second, start + 30ms);
  EXPECT_EQ(clock.now(), start + 40ms);
}

TEST(FakeClock, RearmReplacesAndCancelStops) {
  testing::FakeClock clock;
  auto t = clock.make_timer();
  int calls = 0;
  t->arm(10ms, [&] { calls += 1; });
  t->arm(50ms, [&] { calls += 10; });
  clock.advance(20ms);
  EXPECT_EQ(calls, 0);
  EXPECT_TRUE(t->armed());
  t->cancel();
  clock.advance(100ms);
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(t->armed());
}

TEST(FakeClock, PeriodicTimerRearmingItselfFiresEachPeriod) {
  testing::FakeClock clock;
  auto t = clock.make_timer();
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    t->arm(100ms, tick);
  };
  t->arm(100ms, tick);
  clock.advance(1s);
  EXPECT_EQ(ticks, 10);
}

TEST(AsioClock, TimerRunsOnTheLoopAndStaleCompletionsAreIgnored) {
  boost::asio::io_context io;
  core::AsioClock clock(io);
  auto t = clock.make_timer();
  int which = 0;
  t->arm(1ms, [&] { which = 1; });
  t->arm(2ms, [&] { which = 2; });  // replaces the first
  io.run_for(2s);
  EXPECT_EQ(which, 2);
  EXPECT_FALSE(t->armed());
}

TEST(AsioClock, DestroyedTimerNeverCalls) {
  boost::asio::io_context io;
  core::AsioClock clock(io);
  bool called = false;
  {
    auto t = clock.make_timer();
    t->arm(0ms, [&] { called = true; });
  }
  io.run_for(100ms);
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace ng
