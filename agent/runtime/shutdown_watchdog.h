#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace ng::agent {

// Armed when shutdown begins: if the agent has not finished within the timeout, calls on_hang
// (which aborts in production, so a stuck repair or RPC can never keep a pod terminating).
class ShutdownWatchdog {
 public:
  ShutdownWatchdog() = default;
  ~ShutdownWatchdog() { disarm(); }

  void arm(std::chrono::milliseconds timeout, std::function<void()> on_hang);
  void disarm();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace ng::agent
