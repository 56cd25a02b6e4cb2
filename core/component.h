#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ng::core {

enum class ComponentState {
  kStopped,   // not started yet, or stopped
  kStarting,  // start() returned but the first observation is not done
  kRunning,   // doing its job
  kDegraded,  // running with an environment error (reported) and a reduced job
  kFailed,    // cannot do its job at all
  kDisabled,  // turned off by config
};

std::string_view to_string(ComponentState s);

struct ComponentStatus {
  ComponentState state = ComponentState::kStopped;
  std::string message;  // one line for people: "watching nat, filter on nft; 42 guarded rules"
  std::vector<std::pair<std::string, std::string>> details;  // stable keys for scripts
};

// The lifecycle every agent component implements. All three calls happen on the agent loop
// thread; start() and stop() must not block (blocking work goes to the worker pool).
class Component {
 public:
  virtual ~Component() = default;
  virtual std::string_view name() const = 0;
  virtual void start() = 0;
  // Cancel timers, close fds, drop pending work. Must finish promptly: shutdown has 5 s in all.
  virtual void stop() = 0;
  virtual ComponentStatus status() const = 0;
};

// Started means the component is doing its job, perhaps degraded; what /readyz asks.
inline bool is_started(ComponentState s) {
  return s == ComponentState::kRunning || s == ComponentState::kDegraded ||
         s == ComponentState::kDisabled;
}

}  // namespace ng::core
