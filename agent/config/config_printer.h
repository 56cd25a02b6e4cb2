#pragma once

#include <string>

#include "agent/config/agent_config.h"

namespace ng::agent {

// The effective config as YAML; with_docs adds each key's documentation as comments.
std::string render_yaml(const AgentConfig& config, bool with_docs);

}  // namespace ng::agent
