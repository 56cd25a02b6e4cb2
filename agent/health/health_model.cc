#include "agent/health/health_model.h"

namespace ng::agent {

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::kHealthy:
      return "Healthy";
    case Verdict::kDegraded:
      return "Degraded";
    case Verdict::kUnhealthy:
      return "Unhealthy";
  }
  return "Unknown";
}

bool is_repair_event(const core::HealthEvent& event) {
  if (auto it = event.attributes.find("repair"); it != event.attributes.end()) {
    return it->second == "applied";
  }
  const std::string& r = event.reason;
  const bool says_repaired =
      r.find("Repair") != std::string::npos || r.find("Restore") != std::string::npos;
  if (!says_repaired) return false;
  for (const char* not_done : {"Fail", "Skip", "DryRun", "Would", "Planned", "Refused"}) {
    if (r.find(not_done) != std::string::npos) return false;
  }
  return true;
}

HealthModel::HealthModel(core::Clock& clock, prometheus::Registry& registry, size_t event_capacity)
    : clock_(clock),
      capacity_(event_capacity),
      condition_gauge_(prometheus::BuildGauge()
                           .Name("nodeguard_condition")
                           .Help("Node conditions: 1 for the status the condition is in "
                                 "(status=\"true\" means the problem is present)")
                           .Register(registry)),
      events_total_(prometheus::BuildCounter()
                        .Name("nodeguard_events_total")
                        .Help("Health events recorded, by source component and severity")
                        .Register(registry)) {}

void HealthModel::set_condition(const core::ConditionReport& report) {
  const auto now = clock_.wall_now();
  auto [it, inserted] = conditions_.try_emplace(report.type);
  Condition& c = it->second;
  const bool changed = inserted || c.active != report.active;
  c.type = report.type;
  if (inserted) c.since = now;
  if (changed) c.last_transition = now;
  c.active = report.active;
  c.reason = report.reason;
  c.message = report.message;
  c.severity = report.severity;
  c.last_update = now;
  condition_gauge_.Add({{"type", report.type}, {"status", "true"}}).Set(report.active ? 1 : 0);
  condition_gauge_.Add({{"type", report.type}, {"status", "false"}}).Set(report.active ? 0 : 1);
  if (changed && !(inserted && !report.active)) {
    core::HealthEvent e;
    e.source = "health";
    e.reason = report.active ? report.type : report.type + "Cleared";
    e.message = report.message;
    e.severity = report.active ? report.severity : core::Severity::kInfo;
    e.attributes["condition"] = report.type;
    e.attributes["condition_reason"] = report.reason;
    record_event(std::move(e));
  }
}

void HealthModel::record_event(core::HealthEvent event) {
  events_total_
      .Add({{"source", event.source}, {"severity", std::string(core::to_string(event.severity))}})
      .Increment();
  RecordedEvent r{next_seq_++, clock_.wall_now(), std::move(event)};
  if (is_repair_event(r.event)) last_repair_ = r;
  events_.push_back(std::move(r));
  while (events_.size() > capacity_) events_.pop_front();
  // Listeners may unsubscribe while being called: iterate over a copy of the ids.
  std::vector<int> ids;
  for (const auto& [id, _] : listeners_) ids.push_back(id);
  for (int id : ids) {
    auto it = listeners_.find(id);
    if (it != listeners_.end()) it->second(events_.back());
  }
}

std::vector<RecordedEvent> HealthModel::events_after(std::uint64_t after, bool* truncated) const {
  std::vector<RecordedEvent> out;
  if (truncated) *truncated = !events_.empty() && after + 1 < events_.front().seq;
  for (const auto& e : events_) {
    if (e.seq > after) out.push_back(e);
  }
  return out;
}

std::vector<RecordedEvent> HealthModel::recent_events(size_t n) const {
  const size_t skip = events_.size() > n ? events_.size() - n : 0;
  return {events_.begin() + static_cast<std::ptrdiff_t>(skip), events_.end()};
}

std::vector<std::string> HealthModel::verdict_reasons(
    const std::vector<core::NamedStatus>& components) const {
  std::vector<std::string> errors, warnings;
  for (const auto& [type, c] : conditions_) {
    if (!c.active || c.severity == core::Severity::kInfo) continue;
    std::string line = "condition " + type + " (" + std::string(core::to_string(c.severity)) +
                       "): " + (c.message.empty() ? c.reason : c.message);
    (c.severity == core::Severity::kError ? errors : warnings).push_back(std::move(line));
  }
  for (const auto& s : components) {
    const auto state = s.status.state;
    if (state != core::ComponentState::kFailed && state != core::ComponentState::kDegraded) {
      continue;
    }
    std::string line = "component " + s.name + " " + std::string(core::to_string(state)) +
                       (s.status.message.empty() ? "" : ": " + s.status.message);
    (state == core::ComponentState::kFailed ? errors : warnings).push_back(std::move(line));
  }
  errors.insert(errors.end(), warnings.begin(), warnings.end());
  return errors;
}

Verdict HealthModel::verdict(const std::vector<core::ComponentStatus>& components) const {
  Verdict v = Verdict::kHealthy;
  auto raise = [&v](Verdict to) {
    if (static_cast<int>(to) > static_cast<int>(v)) v = to;
  };
  for (const auto& [_, c] : conditions_) {
    if (!c.active) continue;
    if (c.severity == core::Severity::kError) raise(Verdict::kUnhealthy);
    if (c.severity == core::Severity::kWarning) raise(Verdict::kDegraded);
  }
  for (const auto& s : components) {
    if (s.state == core::ComponentState::kFailed) raise(Verdict::kUnhealthy);
    if (s.state == core::ComponentState::kDegraded) raise(Verdict::kDegraded);
  }
  return v;
}

int HealthModel::subscribe(Listener listener) {
  const int id = next_listener_++;
  listeners_[id] = std::move(listener);
  return id;
}

void HealthModel::unsubscribe(int id) {
  listeners_.erase(id);
}

}  // namespace ng::agent
