#pragma once

#include <map>
#include <string>
#include <string_view>

namespace ng::core {

enum class Severity { kInfo, kWarning, kError };
std::string_view to_string(Severity s);

// Something that happened on the node, worth telling a controller about: a drift, a repair,
// a session that went down, a log problem. Events are kept in a bounded ring.
struct HealthEvent {
  std::string source;   // component: "netfilter", "bgp", "logs", ...
  std::string reason;   // CamelCase, stable: "DriftRepaired", "BGPPeerDown"
  std::string message;  // one sentence for people
  Severity severity = Severity::kInfo;
  std::map<std::string, std::string> attributes;  // stable keys: table, peer, rule, ...
};

// Conditions follow node-problem-detector's convention: the type names a problem
// ("PodRouteViaGateway") and status true means the problem is present now.
struct ConditionReport {
  std::string type;
  bool active = false;
  std::string reason;   // CamelCase cause
  std::string message;  // what is wrong and the fix, in words
  Severity severity = Severity::kWarning;
};

// Components report findings here; they never talk to gRPC or metrics exporters directly.
// Called on the loop thread.
class HealthSink {
 public:
  virtual ~HealthSink() = default;
  virtual void set_condition(const ConditionReport& report) = 0;
  virtual void record_event(HealthEvent event) = 0;
};

}  // namespace ng::core
