#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace ng::agent::kube {

// A NodeCondition as the API holds it (times in RFC 3339).
struct NodeCondition {
  std::string type;
  std::string status;  // "True", "False", "Unknown"
  std::string reason;
  std::string message;
  std::string last_heartbeat_time;
  std::string last_transition_time;
  bool operator==(const NodeCondition&) const = default;
};

struct Taint {
  std::string key;
  std::string value;
  std::string effect;
  std::string time_added;  // kept as read; only set by us for new NoExecute taints
  bool operator==(const Taint&) const = default;
};

// What the exporter reads from a Node. Pure data; parse_node checks the shape.
struct NodeView {
  std::string name;
  std::string resource_version;
  std::map<std::string, NodeCondition> conditions;
  std::vector<Taint> taints;
};

core::Result<NodeView> parse_node(const std::string& body);

// RFC 3339 in UTC with second precision, as metav1.Time serializes.
std::string rfc3339(core::WallTime t);

// Strategic merge patch of nodes/NAME/status: `set` merged by type, `remove` deleted by type
// ($patch: delete); no other condition is touched.
std::string conditions_patch(const std::vector<NodeCondition>& set,
                             const std::vector<std::string>& remove);

// The taints a node should carry: every taint whose key does not start with `prefix`
// unchanged and in place, then the wanted ones (key -> effect) that are missing. nullopt when
// nothing changes.
std::optional<std::vector<Taint>> reconcile_taints(const std::vector<Taint>& current,
                                                   const std::map<std::string, std::string>& want,
                                                   const std::string& prefix,
                                                   const std::string& now);
// JSON merge patch of the node that replaces spec.taints, guarded by resourceVersion (the API
// answers 409 if the node changed since it was read).
std::string taints_patch(const std::vector<Taint>& taints, const std::string& resource_version);

// A core/v1 Event about the node, kubelet's shape: involvedObject the Node (uid empty is
// fine), source.component, reportingController, count.
struct NodeEvent {
  std::string name;  // <node>.<hex>
  std::string node;
  std::string reason;
  std::string message;
  std::string type;  // Normal or Warning
  std::int64_t count = 1;
  std::string first_time;
  std::string last_time;
};
std::string event_body(const NodeEvent& e, const std::string& reporting_instance);
// The aggregation update: count and lastTimestamp (strategic merge patch, as kubelet sends).
std::string event_update_patch(const NodeEvent& e);

// "/api/v1/nodes/" + name, and the event paths in namespace `ns`.
std::string node_path(const std::string& node);
std::string events_path(const std::string& ns);

}  // namespace ng::agent::kube
