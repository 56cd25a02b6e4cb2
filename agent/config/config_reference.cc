#include "agent/config/config_reference.h"

#include "agent/config/config_detail.h"

namespace ng::agent {
namespace {

using core::Check;
using core::ConfigBinder;
using core::Millis;

// Collects one KeyInfo per key (sections recurse; object lists are one key).
class KeyCollector final : public ConfigBinder {
 public:
  KeyCollector(std::vector<KeyInfo>& out, std::string prefix)
      : out_(out), prefix_(std::move(prefix)) {}

  void section(std::string_view key, std::string_view,
               const std::function<void(ConfigBinder&)>& body) override {
    KeyCollector sub(out_, config_detail::join_path(prefix_, key));
    body(sub);
  }
  void field(std::string_view key, bool& v, std::string_view doc) override {
    add(key, doc, "bool", v ? "true" : "false");
  }
  void field(std::string_view key, std::int64_t& v, std::string_view doc,
             const Check<std::int64_t>&) override {
    add(key, doc, "int", std::to_string(v));
  }
  void field(std::string_view key, double& v, std::string_view doc, const Check<double>&) override {
    add(key, doc, "number", config_detail::number_text(v));
  }
  void field(std::string_view key, std::string& v, std::string_view doc,
             const Check<std::string>&) override {
    add(key, doc, "string", config_detail::yaml_quote(v));
  }
  void field(std::string_view key, Millis& v, std::string_view doc, const Check<Millis>&) override {
    add(key, doc, "duration", core::format_duration(v));
  }
  void field(std::string_view key, std::vector<std::string>& v, std::string_view doc,
             const Check<std::string>&) override {
    add(key, doc, "list", config_detail::yaml_list(v));
  }
  void field(std::string_view key, std::map<std::string, std::vector<std::string>>& v,
             std::string_view doc, const Check<std::string>&) override {
    std::string s = "{";
    bool first = true;
    for (const auto& [k, items] : v) {
      s += (first ? "" : ", ") + k + ": " + config_detail::yaml_list(items);
      first = false;
    }
    add(key, doc, "map", s + "}");
  }
  void objects(std::string_view key, std::string_view doc, core::ObjectList& list) override {
    add(key, doc, "objects", list.size() == 0 ? "[]" : "(" + std::to_string(list.size()) + ")");
  }

 private:
  void add(std::string_view key, std::string_view doc, std::string type, std::string def) {
    const std::string path = config_detail::join_path(prefix_, key);
    out_.push_back({path,
                    config_detail::flag_for(path),
                    std::string(doc),
                    std::move(type),
                    std::move(def),
                    {}});
  }
  std::vector<KeyInfo>& out_;
  std::string prefix_;
};

}  // namespace

std::vector<KeyInfo> describe_keys() {
  AgentConfig defaults;
  std::vector<KeyInfo> keys;
  KeyCollector collector(keys, "");
  bind_config(collector, defaults);
  for (const auto& [path, alias] : flag_aliases()) {
    for (auto& k : keys) {
      if (k.path == path) k.aliases.push_back(alias);
    }
  }
  return keys;
}

std::string render_reference_markdown() {
  std::string out = "| key | flag | type | default | meaning |\n|---|---|---|---|---|\n";
  for (const auto& k : describe_keys()) {
    std::string def = k.default_value;
    std::string doc = k.doc;
    for (auto* s : {&def, &doc}) {
      std::string esc;
      for (char c : *s) {
        if (c == '|')
          esc += "\\|";
        else
          esc += c;
      }
      *s = esc;
    }
    std::string flags = "`--" + k.flag + "`";
    for (const auto& a : k.aliases) flags += ", `--" + a + "`";
    out += "| `" + k.path + "` | " + flags + " | " + k.type + " | `" + def + "` | " + doc + " |\n";
  }
  return out;
}

}  // namespace ng::agent
