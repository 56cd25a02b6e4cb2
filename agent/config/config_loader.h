#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/config/agent_config.h"

namespace ng::agent {

// A config problem, naming the key, where it came from and why it is wrong.
struct ConfigError {
  std::string key;    // dotted path: netfilter.poll_interval
  std::string where;  // "nodeguard.yaml line 12" or "flag --netfilter-poll-interval"
  std::string reason;
  std::string to_string() const;
};

// One config key as the schema describes it: drives flags, --help and the docs.
struct KeyInfo {
  std::string path;  // netfilter.poll_interval
  std::string flag;  // netfilter-poll-interval
  std::string doc;
  std::string type;                  // bool, int, number, string, duration, list, map, objects
  std::string default_value;         // as YAML
  std::vector<std::string> aliases;  // more flags for the same key (flag_aliases())
};

// Loads YAML text over `config` (missing keys keep their value). Unknown keys, wrong types and
// out-of-range values are errors; `source` names the file in messages.
std::vector<ConfigError> apply_yaml(AgentConfig& config, std::string_view yaml_text,
                                    const std::string& source);

// Applies flag overrides: (dotted key, value written as YAML: "250ms", "[a, b]", "true").
std::vector<ConfigError> apply_overrides(
    AgentConfig& config, const std::vector<std::pair<std::string, std::string>>& overrides);

// Checks across keys (a TCP listener needs a certificate, ...).
std::vector<ConfigError> validate(const AgentConfig& config);

std::vector<KeyInfo> describe_keys();

// The effective config as YAML; with_docs adds each key's documentation as comments.
std::string render_yaml(const AgentConfig& config, bool with_docs);

// The key reference table for docs/configuration.md.
std::string render_reference_markdown();

}  // namespace ng::agent
