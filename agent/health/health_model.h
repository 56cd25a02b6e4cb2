#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "core/clock.h"
#include "core/component.h"
#include "core/component_registry.h"
#include "core/health_sink.h"

namespace ng::agent {

struct Condition {
  std::string type;
  bool active = false;
  std::string reason;
  std::string message;
  core::Severity severity = core::Severity::kWarning;
  core::WallTime since{};            // when it was first reported (since the agent started)
  core::WallTime last_transition{};  // when `active` last flipped (or `since`)
  core::WallTime last_update{};      // when it was last reported: the heartbeat
};

struct RecordedEvent {
  std::uint64_t seq = 0;  // strictly increasing from 1; a resume point for watchers
  core::WallTime time{};
  core::HealthEvent event;
};

enum class Verdict { kHealthy, kDegraded, kUnhealthy };
std::string_view to_string(Verdict v);

// Whether an event reports a repair the agent made (what "last repair" shows). The convention,
// documented in docs/api.md: attribute repair="applied", or a reason that says so
// ("DriftRepaired", "RulesRestored", "RepairApplied") and is not a failure, a skip or a dry run.
bool is_repair_event(const core::HealthEvent& event);

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
  // The newest `n` events, oldest first.
  std::vector<RecordedEvent> recent_events(size_t n) const;
  std::uint64_t last_seq() const { return next_seq_ - 1; }
  // Oldest event still in the ring; 0 when the ring is empty.
  std::uint64_t oldest_seq() const { return events_.empty() ? 0 : events_.front().seq; }
  size_t event_capacity() const { return capacity_; }
  // The newest repair event (is_repair_event), kept even after the ring dropped it.
  const std::optional<RecordedEvent>& last_repair() const { return last_repair_; }

  // Rules: Unhealthy when an active condition has severity error or a component failed;
  // Degraded when an active condition has severity warning or a component is degraded;
  // Healthy otherwise. Info-severity conditions never change the verdict.
  Verdict verdict(const std::vector<core::ComponentStatus>& components) const;
  // One line per thing that pulls the verdict below Healthy, worst first; empty when Healthy.
  std::vector<std::string> verdict_reasons(const std::vector<core::NamedStatus>& components) const;

  int subscribe(Listener listener);
  void unsubscribe(int id);

 private:
  core::Clock& clock_;
  size_t capacity_;
  std::map<std::string, Condition> conditions_;
  std::deque<RecordedEvent> events_;
  std::uint64_t next_seq_ = 1;
  std::optional<RecordedEvent> last_repair_;
  std::map<int, Listener> listeners_;
  int next_listener_ = 1;
  prometheus::Family<prometheus::Gauge>& condition_gauge_;
  prometheus::Family<prometheus::Counter>& events_total_;
};

}  // namespace ng::agent
