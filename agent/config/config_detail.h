#pragma once

// Shared by the config files (config_loader.cc, config_flags.cc, config_printer.cc,
// config_reference.cc); not for use outside agent/config.

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

#include "agent/config/agent_config.h"
#include "agent/config/config_loader.h"

namespace ng::agent::config_detail {

// "netfilter" + "poll_interval" -> "netfilter.poll_interval".
std::string join_path(const std::string& prefix, std::string_view key);

// The flag for a dotted path: netfilter.poll_interval -> netfilter-poll-interval.
std::string flag_for(const std::string& path);

// Where a value came from, for error messages.
class Origin {
 public:
  virtual ~Origin() = default;
  virtual std::string where(const std::string& path, const YAML::Node& node) const = 0;
};

// Reads a parsed YAML document over `config`: on any error the config is left untouched.
std::vector<ConfigError> read_node(AgentConfig& config, const YAML::Node& root,
                                   const Origin& origin);

// Scalars and lists as YAML text (config_printer.cc).
std::string yaml_quote(const std::string& s);
std::string yaml_list(const std::vector<std::string>& v);
std::string number_text(double v);

}  // namespace ng::agent::config_detail
