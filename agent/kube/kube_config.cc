#include "agent/kube/kube_config.h"

#include <optional>

namespace ng::agent::kube {

using namespace std::chrono_literals;

namespace {

// Kubernetes names: a condition type or a taint key's name part (letters, digits, -_.).
bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (char ch : s) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<std::string> condition_entry_error(const std::string& v) {
  auto eq = v.find('=');
  std::string from = v.substr(0, eq);
  std::string to = eq == std::string::npos ? from : v.substr(eq + 1);
  if (!valid_name(from) || !valid_name(to)) {
    return "must be TYPE or TYPE=NODE_CONDITION_TYPE (letters, digits, -_.; at most 63); got \"" +
           v + "\"";
  }
  return std::nullopt;
}

std::optional<std::string> taint_entry_error(const std::string& v) {
  auto eq = v.find('=');
  if (eq == std::string::npos || !valid_name(v.substr(0, eq))) {
    return "must be TYPE=NoSchedule or TYPE=NoExecute; got \"" + v + "\"";
  }
  std::string effect = v.substr(eq + 1);
  if (effect != "NoSchedule" && effect != "NoExecute") {
    return "effect must be NoSchedule or NoExecute (PreferNoSchedule does not keep pods off a "
           "broken node); got \"" +
           effect + "\"";
  }
  return std::nullopt;
}

void bind_config(core::ConfigBinder& b, KubeConfig& c) {
  b.field("enabled", c.enabled,
          "Export to the Kubernetes API: auto (on when KUBERNETES_SERVICE_HOST/PORT and the "
          "service account token exist, or a kubeconfig is given or in $KUBECONFIG), true "
          "(missing credentials are an error at start), false.",
          core::one_of({"auto", "true", "false"}));
  b.field("kubeconfig", c.kubeconfig,
          "A kubeconfig file (server, certificate-authority(-data), token(-file) or "
          "client-certificate/key(-data) of its current context); empty: in-cluster config.",
          core::absolute_path(true));
  b.field("heartbeat", c.heartbeat,
          "How often lastHeartbeatTime of the exported Node conditions is refreshed when "
          "nothing changed (node-problem-detector's default is 5m).",
          core::duration_range(10s, 1h));
  b.field("conditions", c.conditions,
          "Health conditions exported as Node conditions, each TYPE or TYPE=NODE_TYPE to "
          "rename it; empty: every condition. Types exported before and not any more are "
          "removed from the Node once.",
          condition_entry_error);
  b.field("taints", c.taints,
          "Opt-in taints, each TYPE=NoSchedule or TYPE=NoExecute: while the condition is True "
          "the Node carries the taint nodeguard.io/TYPE; removed when it clears. Other taints "
          "are never touched.",
          taint_entry_error);
  b.field("request_timeout", c.request_timeout,
          "Deadline of one API request (connect, TLS, request and answer).",
          core::duration_range(1s, 5min));
  b.field("retry_max", c.retry_max,
          "Longest wait between retries of a failed write (exponential backoff with jitter; "
          "a 429's Retry-After is honoured).",
          core::duration_range(1s, 10min));
  b.field("unreachable_after", c.unreachable_after,
          "Writes failing for this long set the condition KubernetesAPIUnreachable and degrade "
          "the component; what could not be written is kept (newest state wins) and sent when "
          "the API answers again.",
          core::duration_range(1s, 24h));
  b.field("carry_over", c.carry_over,
          "A True condition found on the Node at start that no component has judged yet is "
          "kept this long (restarts do not reset conditions); then the agent's own view wins.",
          core::duration_range(0ms, 7 * 24h));
  b.section("events", "Kubernetes Events for the agent's events (repairs, log problems, ...).",
            [&](core::ConfigBinder& s) {
              s.field("enabled", c.events.enabled, "Create Events on the Node.");
              s.field("burst", c.events.burst,
                      "Events sent back to back before refill_interval applies.",
                      core::int_range(1, 1000));
              s.field("refill_interval", c.events.refill_interval,
                      "After a burst, one more event per interval; the rest wait, aggregated.",
                      core::duration_range(10ms, 1h));
              s.field("max_pending", c.events.max_pending,
                      "Distinct events (reason and message) waiting to be sent; past it the "
                      "oldest are dropped and counted.",
                      core::int_range(1, 10000));
            });
}

}  // namespace ng::agent::kube
