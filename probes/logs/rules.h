#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/health_sink.h"
#include "probes/logs/log_types.h"

namespace ng::probes::logs {

// node-problem-detector's system-log-monitor rule format:
//   {"source": "kubelet-monitor", "plugin": "journald", "pluginConfig": {"source": "kubelet"},
//    "conditions": [{"type": "PLEGUnhealthy", "reason": "PLEGIsHealthy", "message": "..."}],
//    "rules": [{"type": "permanent", "condition": "PLEGUnhealthy", "reason": "PLEGNotHealthy",
//               "pattern": "PLEG is not healthy.*"},
//              {"type": "temporary", "reason": "OOMKilling", "pattern": "System OOM.*"}]}
// Temporary rules make events; permanent rules set their condition. nodeguard additions, all
// optional: "appliesTo" (["container", "kubelet", "file"]) on the file and on a rule,
// "severity" on conditions and rules ("info", "warning", "error"), and "matchQuoted" on a rule.
//
// Who may raise what: a permanent rule sets a node condition, so it never applies to container
// lines (pods write them), whatever "appliesTo" says; and on kubelet lines it sees only
// kubelet's own words, with text quoted from pods masked (quote_mask.h), unless it says
// "matchQuoted": true. Temporary rules (events, carrying the pod) see whole lines by default.

enum class RuleType { kTemporary, kPermanent };

inline constexpr unsigned source_bit(SourceKind k) {
  return 1u << static_cast<unsigned>(k);
}
inline constexpr unsigned kAllSources = 0b111;
// Sources that may set a node condition: not containers.
inline constexpr unsigned kNodeSources = 0b110;

struct Rule {
  RuleType type = RuleType::kTemporary;
  std::string condition;  // permanent rules: the condition type they set
  std::string reason;
  std::string pattern;
  core::Severity severity = core::Severity::kWarning;
  unsigned sources = kAllSources;  // bit per SourceKind
  // false: kubelet lines are matched with pod-quoted text masked (mask_quoted()).
  bool match_quoted = true;
  std::string monitor;  // the file's "source" ("kubelet-monitor")
  std::string origin;   // "file.json rule 3" for messages
};

struct ConditionDefault {
  std::string type;
  std::string reason;   // while inactive
  std::string message;  // while inactive
  core::Severity severity = core::Severity::kWarning;
  std::string origin;
};

struct RuleSet {
  std::vector<Rule> rules;
  std::vector<ConditionDefault> conditions;
  std::vector<std::string> errors;    // a rejected file or rule, each naming it and why
  std::vector<std::string> warnings;  // unknown fields and other things ignored
  int files = 0;
};

// Parses one rule document into `into`; `name` identifies it in messages. A document that is
// not JSON is rejected whole; a bad rule is rejected alone.
void parse_rule_file(std::string_view json, const std::string& name, RuleSet& into);

// The rules shipped in config/rules/, compiled into the binary: (file name, JSON) pairs.
const std::vector<std::pair<std::string, std::string>>& builtin_rule_files();

}  // namespace ng::probes::logs
