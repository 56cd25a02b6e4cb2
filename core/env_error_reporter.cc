#include "core/env_error_reporter.h"

namespace ng::core {

EnvErrorReporter::EnvErrorReporter(prometheus::Registry& registry, Logger log)
    : family_(prometheus::BuildCounter()
                  .Name("nodeguard_environment_errors_total")
                  .Help("Errors from the node's environment (permission, missing binary, lock "
                        "busy, unavailable peer), by component and kind")
                  .Register(registry)),
      log_(std::move(log)) {}

bool EnvErrorReporter::report(const std::string& component, const EnvError& error) {
  family_.Add({{"component", component}, {"kind", std::string(to_string(error.kind))}}).Increment();
  auto& seen = active_[{component, error.kind}];
  if (seen) return false;
  seen = true;
  log_.warn("environment error; degrading until it clears",
            {{"for", component}, {"kind", to_string(error.kind)}, {"error", error.message}});
  return true;
}

void EnvErrorReporter::recovered(const std::string& component) {
  bool any = false;
  for (auto it = active_.begin(); it != active_.end();) {
    if (it->first.first == component) {
      any = any || it->second;
      it = active_.erase(it);
    } else {
      ++it;
    }
  }
  if (any) log_.info("environment error cleared", {{"for", component}});
}

bool EnvErrorReporter::has_error(const std::string& component) const {
  for (const auto& [key, active] : active_) {
    if (key.first == component && active) return true;
  }
  return false;
}

}  // namespace ng::core
