#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/health_sink.h"

namespace ng::testing {

// Keeps the latest report per condition type and every event, for assertions.
class RecordingHealthSink final : public core::HealthSink {
 public:
  void set_condition(const core::ConditionReport& r) override { conditions[r.type] = r; }
  void record_event(core::HealthEvent e) override { events.push_back(std::move(e)); }

  bool active(const std::string& type) const {
    auto it = conditions.find(type);
    return it != conditions.end() && it->second.active;
  }
  size_t count_events(const std::string& reason) const {
    size_t n = 0;
    for (const auto& e : events) n += e.reason == reason;
    return n;
  }

  std::map<std::string, core::ConditionReport> conditions;
  std::vector<core::HealthEvent> events;
};

}  // namespace ng::testing
