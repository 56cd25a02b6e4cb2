#pragma once

#include <map>
#include <string>

#include <prometheus/registry.h>

namespace ng::testing {

// The value of one series (counter or gauge) in a registry; -1 when it does not exist.
inline double metric_value(prometheus::Registry& registry, const std::string& name,
                           const std::map<std::string, std::string>& labels) {
  for (const auto& f : registry.Collect()) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      std::map<std::string, std::string> l;
      for (const auto& x : m.label) l[x.name] = x.value;
      if (l == labels) {
        return f.type == prometheus::MetricType::Gauge ? m.gauge.value : m.counter.value;
      }
    }
  }
  return -1;
}

// The sum over every series of `name` whose labels include `want` (counters, gauges, and a
// histogram's sample count); 0 when none does.
inline double metric_sum(prometheus::Registry& registry, const std::string& name,
                         const std::map<std::string, std::string>& want) {
  double sum = 0;
  for (const auto& f : registry.Collect()) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      std::map<std::string, std::string> l;
      for (const auto& x : m.label) l[x.name] = x.value;
      bool match = true;
      for (const auto& [k, v] : want) match = match && l[k] == v;
      if (!match) continue;
      sum += m.counter.value + m.gauge.value + static_cast<double>(m.histogram.sample_count);
    }
  }
  return sum;
}

}  // namespace ng::testing
