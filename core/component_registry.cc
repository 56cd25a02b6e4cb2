#include "core/component_registry.h"

namespace ng::core {

void ComponentRegistry::start_all() {
  for (; started_ < components_.size(); ++started_) {
    auto& c = components_[started_];
    c->start();
    const auto st = c->status();
    log_.info("component started",
              {{"name", c->name()}, {"state", core::to_string(st.state)}, {"detail", st.message}});
  }
}

void ComponentRegistry::stop_all() {
  while (started_ > 0) {
    auto& c = components_[--started_];
    c->stop();
    log_.info("component stopped", {{"name", c->name()}});
  }
}

std::vector<NamedStatus> ComponentRegistry::statuses() const {
  std::vector<NamedStatus> out;
  out.reserve(components_.size());
  for (const auto& c : components_) out.push_back({std::string(c->name()), c->status()});
  return out;
}

bool ComponentRegistry::all_started() const {
  if (started_ < components_.size()) return false;
  for (const auto& c : components_) {
    if (!core::is_started(c->status().state)) return false;
  }
  return true;
}

}  // namespace ng::core
