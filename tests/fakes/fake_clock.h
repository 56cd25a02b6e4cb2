#pragma once

#include <algorithm>
#include <map>
#include <memory>

#include "core/clock.h"

namespace ng::testing {

// Time that moves only when the test says so. advance() fires every due timer in deadline
// order, each with now() equal to its deadline, so code under test sees consistent time.
class FakeClock final : public core::Clock {
 public:
  FakeClock()
      : now_(core::MonoTime(std::chrono::hours(1000))),
        wall_base_(std::chrono::system_clock::from_time_t(1'800'000'000)) {}

  core::MonoTime now() const override { return now_; }
  core::WallTime wall_now() const override {
    return wall_base_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                            now_ - core::MonoTime(std::chrono::hours(1000)));
  }
  std::unique_ptr<core::Timer> make_timer() override {
    return std::make_unique<FakeTimer>(*state_);
  }

  void advance(core::Duration d) {
    const core::MonoTime target = now_ + d;
    for (;;) {
      auto it = std::min_element(
          state_->timers.begin(), state_->timers.end(),
          [](const auto& a, const auto& b) { return a.second.deadline < b.second.deadline; });
      if (it == state_->timers.end() || it->second.deadline > target) break;
      now_ = std::max(now_, it->second.deadline);
      auto fn = std::move(it->second.fn);
      it->first->armed_ = false;
      state_->timers.erase(it);
      fn();
    }
    now_ = target;
  }
  size_t pending_timers() const { return state_->timers.size(); }

 private:
  class FakeTimer;
  struct Entry {
    core::MonoTime deadline;
    std::function<void()> fn;
  };
  struct State {
    const core::MonoTime* now;
    std::map<FakeTimer*, Entry> timers;
  };

  class FakeTimer final : public core::Timer {
   public:
    explicit FakeTimer(State& s) : state_(s) {}
    ~FakeTimer() override { cancel(); }
    void arm(core::Duration after, std::function<void()> fn) override {
      state_.timers[this] = Entry{*state_.now + after, std::move(fn)};
      armed_ = true;
    }
    void cancel() override {
      state_.timers.erase(this);
      armed_ = false;
    }
    bool armed() const override { return armed_; }
    bool armed_ = false;

   private:
    State& state_;
  };

  core::MonoTime now_;
  core::WallTime wall_base_;
  std::unique_ptr<State> state_ = std::make_unique<State>(State{&now_, {}});
};

}  // namespace ng::testing
