#pragma once

#include <algorithm>
#include <optional>
#include <random>

#include "core/clock.h"

namespace ng::agent::kube {

// Exponential backoff with jitter (half fixed, half random, so agents on every node that lost
// the API together do not come back together), honouring a server's Retry-After.
class Backoff {
 public:
  Backoff(core::Duration initial, core::Duration max, unsigned seed)
      : initial_(initial), max_(max), rng_(seed) {}

  core::Duration next(std::optional<core::Duration> retry_after = std::nullopt) {
    core::Duration d = initial_;
    for (int i = 0; i < attempts_ && d < max_; ++i) d *= 2;
    d = std::min(d, max_);
    ++attempts_;
    std::uniform_int_distribution<std::int64_t> half(0, d.count() / 2);
    core::Duration wait = d / 2 + core::Duration(half(rng_));
    // Retry-After is the server's word; capped so a bogus value cannot park the exporter.
    if (retry_after) wait = std::max(wait, std::min(*retry_after, core::Duration(max_ * 10)));
    return wait;
  }
  void reset() { attempts_ = 0; }
  int attempts() const { return attempts_; }

 private:
  core::Duration initial_;
  core::Duration max_;
  std::mt19937_64 rng_;
  int attempts_ = 0;
};

}  // namespace ng::agent::kube
