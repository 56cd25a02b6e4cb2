#pragma once

#include <map>
#include <string>

#include <prometheus/registry.h>

namespace ng::testing {

// The value of the first sample of `name` whose labels include all of `labels` (gauge, counter
// or histogram sample count); -1 when there is none. For asserting on a prometheus::Registry.
inline double metric_value(prometheus::Registry& registry, const std::string& name,
                           const std::map<std::string, std::string>& labels = {}) {
  for (const auto& f : registry.Collect()) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      size_t hit = 0;
      for (const auto& l : m.label) {
        auto it = labels.find(l.name);
        hit += it != labels.end() && it->second == l.value;
      }
      if (hit != labels.size()) continue;
      switch (f.type) {
        case prometheus::MetricType::Counter:
          return m.counter.value;
        case prometheus::MetricType::Gauge:
          return m.gauge.value;
        case prometheus::MetricType::Histogram:
          return static_cast<double>(m.histogram.sample_count);
        default:
          return -1;
      }
    }
  }
  return -1;
}

}  // namespace ng::testing
