#pragma once

#include <functional>
#include <mutex>
#include <vector>

#include "core/process_runner.h"

namespace ng::testing {

// Records every request and answers through a handler the test sets.
class FakeProcessRunner final : public core::ProcessRunner {
 public:
  using Handler = std::function<core::Result<core::ProcessResult>(const core::ProcessRequest&)>;
  explicit FakeProcessRunner(Handler h = {}) : handler_(std::move(h)) {}

  core::Result<core::ProcessResult> run(const core::ProcessRequest& request) override {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    if (!handler_) return core::ProcessResult{};
    return handler_(request);
  }
  void set_handler(Handler h) {
    std::lock_guard lock(mu_);
    handler_ = std::move(h);
  }
  std::vector<core::ProcessRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  mutable std::mutex mu_;
  Handler handler_;
  std::vector<core::ProcessRequest> requests_;
};

}  // namespace ng::testing
