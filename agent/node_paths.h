#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/config/agent_config.h"
#include "core/component.h"
#include "core/files.h"
#include "core/health_sink.h"
#include "core/log.h"

namespace ng::agent {

// A node path the agent reads (in the DaemonSet, a hostPath mount), and what breaks without it.
// docs/operations.md, "What the agent needs from the node", is the same list for people.
struct NodePath {
  std::string path;
  std::string feature;  // what does not work without it, in words
};

// The paths the enabled features need, from the config. `dbus_address` is
// DBUS_SYSTEM_BUS_ADDRESS (empty: the default bus). Directories, not sockets or files that come
// and go: a socket appears when its daemon starts, its directory is there from the mount on.
std::vector<NodePath> required_node_paths(const AgentConfig& config, std::string_view dbus_address);

// At start, says which of those paths are not there (a mount the pod lacks, or a node without
// that part) as the condition NodePathMissing, naming each path and the feature it breaks.
class NodePathsCheck final : public core::Component {
 public:
  NodePathsCheck(std::vector<NodePath> paths, core::Files& files, core::HealthSink& health,
                 core::Logger log);
  std::string_view name() const override { return "node_paths"; }
  void start() override;
  void stop() override {}
  core::ComponentStatus status() const override;

 private:
  std::vector<NodePath> paths_;
  core::Files& files_;
  core::HealthSink& health_;
  core::Logger log_;
  std::vector<NodePath> missing_;
  bool started_ = false;
};

}  // namespace ng::agent
