#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "core/clock.h"
#include "core/component.h"
#include "core/health_sink.h"

namespace ng::agent {

struct Condition {
  std::string type;
  bool active = false;
  std::string reason;
  std::string message;
  core::Severity severity = core::Severity::kWarning;
  core::WallTime last_transition{};  // when `active` last flipped
  core::WallTime last_update{};      // when it was last reported
};

struct RecordedEvent {
  std::uint64_t seq = 0;  // strictly increasing from 1; a resume point for watchers
  core::WallTime time{};
  core::HealthEvent event;
};

enum class Verdict { kHealthy, kDegraded, kUnhealthy };
std::string_view to_string(Verdict v);

// The node's health as every component reported it: the only thing exporters read.
// Loop thread only.
class HealthModel final : public core::HealthSink {
 public:
  using Listener = std::function<void(const RecordedEvent&)>;

  HealthModel(core::Clock& clock, prometheus::Registry& registry, size_t event_capacity);

  void set_condition(const core::ConditionReport& report) override;
  void record_event(core::HealthEvent event) override;

  const std::map<std::string, Condition>& conditions() const { return conditions_; }
  // Events with seq > after, oldest first; `truncated` tells the caller it missed some.
  std::vector<RecordedEvent> events_after(std::uint64_t after, bool* truncated = nullptr) const;
  std::uint64_t last_seq() const { return next_seq_ - 1; }

  // Rules: Unhealthy when an active condition has severity error or a component failed;
  // Degraded when an active condition has severity warning or a component is degraded;
  // Healthy otherwise. Info-severity conditions never change the verdict.
  Verdict verdict(const std::vector<core::ComponentStatus>& components) const;

  int subscribe(Listener listener);
  void unsubscribe(int id);

 private:
  core::Clock& clock_;
  size_t capacity_;
  std::map<std::string, Condition> conditions_;
  std::deque<RecordedEvent> events_;
  std::uint64_t next_seq_ = 1;
  std::map<int, Listener> listeners_;
  int next_listener_ = 1;
  prometheus::Family<prometheus::Gauge>& condition_gauge_;
  prometheus::Family<prometheus::Counter>& events_total_;
};

}  // namespace ng::agent
