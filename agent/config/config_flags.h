#pragma once

#include <string>
#include <utility>
#include <vector>

#include "agent/config/agent_config.h"
#include "agent/config/config_loader.h"

namespace ng::agent {

// Applies flag overrides: (dotted key, value written as YAML: "250ms", "[a, b]", "true").
std::vector<ConfigError> apply_overrides(
    AgentConfig& config, const std::vector<std::pair<std::string, std::string>>& overrides);

}  // namespace ng::agent
