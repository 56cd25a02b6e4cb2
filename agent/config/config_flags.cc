#include "agent/config/config_flags.h"

#include <yaml-cpp/yaml.h>

#include <sstream>

#include "agent/config/config_detail.h"

namespace ng::agent {
namespace {

using config_detail::flag_for;
using config_detail::Origin;

class FlagOrigin final : public Origin {
 public:
  explicit FlagOrigin(std::vector<std::string> keys) : keys_(std::move(keys)) {}
  std::string where(const std::string& path, const YAML::Node&) const override {
    // A value inside a list or map flag reports the flag that carried it.
    const std::string* best = nullptr;
    for (const auto& k : keys_) {
      if (path.compare(0, k.size(), k) == 0 && (!best || k.size() > best->size())) best = &k;
    }
    return "flag --" + flag_for(best ? *best : path);
  }

 private:
  std::vector<std::string> keys_;
};

}  // namespace

std::vector<ConfigError> apply_overrides(
    AgentConfig& config, const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::vector<ConfigError> errors;
  YAML::Node root(YAML::NodeType::Map);
  for (const auto& [path, value] : overrides) {
    YAML::Node parsed;
    try {
      parsed = YAML::Load(value);
    } catch (const YAML::ParserException& e) {
      errors.push_back({path, "flag --" + flag_for(path), "not valid YAML: " + e.msg});
      continue;
    }
    if (!parsed.IsDefined() || parsed.IsNull()) parsed = YAML::Node(std::string(""));
    // Walk/create the nested mapping for the dotted path.
    std::vector<std::string> parts;
    std::stringstream ss(path);
    std::string part;
    while (std::getline(ss, part, '.')) parts.push_back(part);
    YAML::Node cur = root;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      if (!cur[parts[i]].IsMap()) cur[parts[i]] = YAML::Node(YAML::NodeType::Map);
      cur.reset(cur[parts[i]]);
    }
    cur[parts.back()] = parsed;
  }
  if (!errors.empty()) return errors;
  std::vector<std::string> keys;
  for (const auto& kv : overrides) keys.push_back(kv.first);
  return config_detail::read_node(config, root, FlagOrigin(std::move(keys)));
}

}  // namespace ng::agent
