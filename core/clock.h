#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace ng::core {

using Duration = std::chrono::nanoseconds;
using MonoTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

// A one-shot timer whose callback runs on the agent loop. Re-arming replaces the pending call.
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void arm(Duration after, std::function<void()> fn) = 0;
  virtual void cancel() = 0;
  virtual bool armed() const = 0;
};

// The time seam: production uses the loop's steady clock, unit tests a FakeClock they advance.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonoTime now() const = 0;
  virtual WallTime wall_now() const = 0;
  virtual std::unique_ptr<Timer> make_timer() = 0;
};

}  // namespace ng::core
