#include "agent/runtime/shutdown_watchdog.h"

namespace ng::agent {

void ShutdownWatchdog::arm(std::chrono::milliseconds timeout, std::function<void()> on_hang) {
  if (thread_.joinable()) return;
  thread_ = std::thread([this, timeout, on_hang = std::move(on_hang)] {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [this] { return done_; })) on_hang();
  });
}

void ShutdownWatchdog::disarm() {
  {
    std::lock_guard lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace ng::agent
