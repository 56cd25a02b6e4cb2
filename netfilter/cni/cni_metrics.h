#pragma once

#include <map>
#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "netfilter/cni/cache_file.h"
#include "netfilter/rule_model.h"

namespace ng::netfilter::cni {

// The CNI cache series (docs/metrics.md). Labels are bounded: state (6), reason (6), family (2).
class CniMetrics {
 public:
  explicit CniMetrics(prometheus::Registry& registry);

  // state: hostport | no_hostport | stale | unverified | unsupported | invalid
  void entries(const std::map<std::string, size_t>& by_state);
  void skipped(SkipReason reason);
  void rules(Family f, size_t expected, size_t missing);
  void mismatched(Family f, size_t chains);
  void rebuilt(Family f, size_t rules);
  void scanned();

 private:
  prometheus::Family<prometheus::Gauge>& entries_;
  prometheus::Family<prometheus::Counter>& skipped_;
  prometheus::Family<prometheus::Gauge>& rules_;
  prometheus::Family<prometheus::Gauge>& mismatched_;
  prometheus::Family<prometheus::Counter>& rebuilt_;
  prometheus::Counter& scans_;
};

}  // namespace ng::netfilter::cni
