#pragma once

#include <string>
#include <string_view>
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

// Loads YAML text over `config` (missing keys keep their value). Unknown keys, wrong types and
// out-of-range values are errors; `source` names the file in messages.
std::vector<ConfigError> apply_yaml(AgentConfig& config, std::string_view yaml_text,
                                    const std::string& source);

// Checks across keys (a TCP listener needs a certificate, ...).
std::vector<ConfigError> validate(const AgentConfig& config);

}  // namespace ng::agent
