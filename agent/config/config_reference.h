#pragma once

#include <string>
#include <vector>

namespace ng::agent {

// One config key as the schema describes it: drives flags, --help and the docs.
struct KeyInfo {
  std::string path;  // netfilter.poll_interval
  std::string flag;  // netfilter-poll-interval
  std::string doc;
  std::string type;                  // bool, int, number, string, duration, list, map, objects
  std::string default_value;         // as YAML
  std::vector<std::string> aliases;  // more flags for the same key (flag_aliases())
};

// Every key of the schema with its built-in default and flag aliases.
std::vector<KeyInfo> describe_keys();

// The key reference table for docs/configuration.md.
std::string render_reference_markdown();

}  // namespace ng::agent
