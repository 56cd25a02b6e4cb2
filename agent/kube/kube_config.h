#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config_binder.h"

namespace ng::agent::kube {

// Event export limits (kubernetes.events).
struct KubeEventsConfig {
  bool enabled = true;
  std::int64_t burst = 25;             // events sent back to back before the rate applies
  core::Millis refill_interval{5000};  // one more event allowed per interval after a burst
  std::int64_t max_pending = 100;      // distinct events kept while the API is down
};

// The Kubernetes API exporter (kubernetes.*): node conditions, events and opt-in taints.
struct KubeConfig {
  std::string enabled = "auto";  // auto: on when in-cluster variables or a kubeconfig exist
  std::string kubeconfig;        // a kubeconfig file; empty: in-cluster, then $KUBECONFIG
  core::Millis heartbeat{300000};
  // Which health conditions become Node conditions: "Type" or "Type=NodeConditionType";
  // empty: every condition the health model holds.
  std::vector<std::string> conditions;
  // "Type=NoSchedule" or "Type=NoExecute": taint the node while the condition is True.
  std::vector<std::string> taints;
  core::Millis request_timeout{10000};
  core::Millis retry_max{30000};           // longest wait between retries
  core::Millis unreachable_after{300000};  // writes failing this long: KubernetesAPIUnreachable
  core::Millis carry_over{3600000};  // how long a True condition read at start is kept unjudged
  KubeEventsConfig events;
};

void bind_config(core::ConfigBinder& b, KubeConfig& c);

// "Type" / "Type=Name" entries; nullopt when well formed.
std::optional<std::string> condition_entry_error(const std::string& v);
std::optional<std::string> taint_entry_error(const std::string& v);

}  // namespace ng::agent::kube
