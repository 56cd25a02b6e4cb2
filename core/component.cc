#include "core/component.h"

#include "core/health_sink.h"

namespace ng::core {

std::string_view to_string(ComponentState s) {
  switch (s) {
    case ComponentState::kStopped:
      return "stopped";
    case ComponentState::kStarting:
      return "starting";
    case ComponentState::kRunning:
      return "running";
    case ComponentState::kDegraded:
      return "degraded";
    case ComponentState::kFailed:
      return "failed";
    case ComponentState::kDisabled:
      return "disabled";
  }
  return "unknown";
}

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kError:
      return "error";
  }
  return "info";
}

}  // namespace ng::core
