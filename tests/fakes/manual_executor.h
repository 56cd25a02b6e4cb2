#pragma once

#include <deque>
#include <functional>

#include "core/executor.h"

namespace ng::testing {

// Queues posted work until the test runs it: deterministic stand-in for the loop and workers.
class ManualExecutor final : public core::Executor {
 public:
  void post(std::function<void()> fn) override { queue_.push_back(std::move(fn)); }
  // Runs until the queue is empty, including work posted meanwhile; returns how many ran.
  size_t run_all() {
    size_t n = 0;
    while (!queue_.empty()) {
      auto fn = std::move(queue_.front());
      queue_.pop_front();
      fn();
      ++n;
    }
    return n;
  }
  bool run_one() {
    if (queue_.empty()) return false;
    auto fn = std::move(queue_.front());
    queue_.pop_front();
    fn();
    return true;
  }
  size_t pending() const { return queue_.size(); }

 private:
  std::deque<std::function<void()>> queue_;
};

}  // namespace ng::testing
