#include "agent/config/config_loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <sstream>

#include "agent/config/config_detail.h"

namespace ng::agent {
namespace config_detail {

std::string join_path(const std::string& prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
}

std::string flag_for(const std::string& path) {
  std::string f = path;
  std::replace(f.begin(), f.end(), '.', '-');
  std::replace(f.begin(), f.end(), '_', '-');
  return f;
}

}  // namespace config_detail

namespace {

using config_detail::join_path;
using config_detail::Origin;
using core::Check;
using core::ConfigBinder;
using core::Millis;

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t prev = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cur = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1)});
      prev = cur;
    }
  }
  return row[b.size()];
}

std::string node_kind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "\"" + n.Scalar() + "\"";
    default:
      return "an undefined value";
  }
}

class FileOrigin final : public Origin {
 public:
  explicit FileOrigin(std::string source) : source_(std::move(source)) {}
  std::string where(const std::string&, const YAML::Node& node) const override {
    const auto mark = node.Mark();
    if (mark.line < 0) return source_;
    return source_ + " line " + std::to_string(mark.line + 1);
  }

 private:
  std::string source_;
};

// Reads one YAML mapping into the bound fields.
class YamlReader final : public ConfigBinder {
 public:
  YamlReader(const YAML::Node& node, std::string prefix, const Origin& origin,
             std::vector<ConfigError>& errors)
      : node_(node), prefix_(std::move(prefix)), origin_(origin), errors_(errors) {}

  // Reports keys in the mapping that no binding asked for.
  void check_unknown_keys() {
    if (!node_.IsMap()) return;
    for (const auto& kv : node_) {
      const std::string key = kv.first.Scalar();
      if (seen_.count(key)) continue;
      std::string reason = "unknown key";
      std::string best;
      size_t best_d = 3;
      for (const auto& known : seen_all_) {
        const size_t d = edit_distance(key, known);
        if (d < best_d) {
          best_d = d;
          best = known;
        }
      }
      if (!best.empty()) reason += "; did you mean \"" + best + "\"?";
      // An empty or non-scalar key (`: 5ms`, `[a]: 1`) still needs a name in the message.
      const std::string shown = !key.empty() ? key
                                : kv.first.IsScalar() || kv.first.IsNull()
                                    ? std::string("\"\"")
                                    : std::string("<non-scalar key>");
      errors_.push_back({join_path(prefix_, shown), origin_.where(prefix_, kv.first), reason});
    }
  }

  void section(std::string_view key, std::string_view,
               const std::function<void(ConfigBinder&)>& body) override {
    const YAML::Node child = lookup(key);
    if (!child) return;
    const std::string path = join_path(prefix_, key);
    if (child.IsNull()) return;
    if (!child.IsMap()) {
      fail(path, child, "expected a mapping of keys, got " + node_kind(child));
      return;
    }
    YamlReader sub(child, path, origin_, errors_);
    body(sub);
    sub.check_unknown_keys();
  }

  void field(std::string_view key, bool& v, std::string_view) override {
    const YAML::Node n = lookup(key);
    if (!n) return;
    const std::string path = join_path(prefix_, key);
    if (!n.IsScalar()) return fail(path, n, "expected true or false, got " + node_kind(n));
    const std::string s = n.Scalar();
    if (s == "true" || s == "yes" || s == "on") {
      v = true;
    } else if (s == "false" || s == "no" || s == "off") {
      v = false;
    } else {
      fail(path, n, "expected true or false, got " + node_kind(n));
    }
  }

  void field(std::string_view key, std::int64_t& v, std::string_view,
             const Check<std::int64_t>& check) override {
    const YAML::Node n = lookup(key);
    if (!n) return;
    const std::string path = join_path(prefix_, key);
    std::int64_t parsed = 0;
    if (!n.IsScalar() || !parse_int(n.Scalar(), parsed)) {
      return fail(path, n, "expected an integer, got " + node_kind(n));
    }
    if (apply_check(path, n, check, parsed)) v = parsed;
  }

  void field(std::string_view key, double& v, std::string_view,
             const Check<double>& check) override {
    const YAML::Node n = lookup(key);
    if (!n) return;
    const std::string path = join_path(prefix_, key);
    double parsed = 0;
    try {
      if (!n.IsScalar()) throw YAML::Exception(YAML::Mark::null_mark(), "");
      parsed = n.as<double>();
    } catch (const YAML::Exception&) {
      return fail(path, n, "expected a number, got " + node_kind(n));
    }
    if (apply_check(path, n, check, parsed)) v = parsed;
  }

  void field(std::string_view key, std::string& v, std::string_view,
             const Check<std::string>& check) override {
    const YAML::Node n = lookup(key);
    if (!n) return;
    const std::string path = join_path(prefix_, key);
    std::string parsed;
    if (n.IsNull()) {
      parsed.clear();
    } else if (n.IsScalar()) {
      parsed = n.Scalar();
    } else {
      return fail(path, n, "expected a string, got " + node_kind(n));
    }
    if (apply_check(path, n, check, parsed)) v = std::move(parsed);
  }

  void field(std::string_view key, Millis& v, std::string_view,
             const Check<Millis>& check) override {
    const YAML::Node n = lookup(key);
    if (!n) return;
    const std::string path = join_path(prefix_, key);
    std::optional<Millis> parsed;
    if (n.IsScalar()) parsed = core::parse_duration(n.Scalar());
    if (!parsed) {
      return fail(path, n, "expected a duration like 250ms, 5s, 2m or 1h, got " + node_kind(n));
    }
    if (apply_check(path, n, check, *parsed)) v = *parsed;
  }

  void field(std::string_view key, std::vector<std::string>& v, std::string_view,
             const Check<std::string>& each) override {
    const YAML::Node n = lookup(key);
    if (!n) return;
    const std::string path = join_path(prefix_, key);
    std::vector<std::string> parsed;
    if (!read_string_list(path, n, each, parsed)) return;
    v = std::move(parsed);
  }

  void field(std::string_view key, std::map<std::string, std::vector<std::string>>& v,
             std::string_view, const Check<std::string>& each) override {
    const YAML::Node n = lookup(key);
    if (!n) return;
    const std::string path = join_path(prefix_, key);
    if (n.IsNull()) {
      v.clear();
      return;
    }
    if (!n.IsMap()) return fail(path, n, "expected a mapping of name: [list], got " + node_kind(n));
    std::map<std::string, std::vector<std::string>> parsed;
    bool ok = true;
    for (const auto& kv : n) {
      const std::string sub = path + "." + kv.first.Scalar();
      std::vector<std::string> items;
      ok = read_string_list(sub, kv.second, each, items) && ok;
      parsed[kv.first.Scalar()] = std::move(items);
    }
    if (ok) v = std::move(parsed);
  }

  void objects(std::string_view key, std::string_view, core::ObjectList& list) override {
    const YAML::Node n = lookup(key);
    if (!n) return;
    const std::string path = join_path(prefix_, key);
    if (n.IsNull()) {
      list.resize(0);
      return;
    }
    if (!n.IsSequence()) return fail(path, n, "expected a list of mappings, got " + node_kind(n));
    list.resize(n.size());
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string elem = path + "[" + std::to_string(i) + "]";
      if (!n[i].IsMap()) {
        fail(elem, n[i], "expected a mapping, got " + node_kind(n[i]));
        continue;
      }
      YamlReader sub(n[i], elem, origin_, errors_);
      list.bind_element(i, sub);
      sub.check_unknown_keys();
    }
  }

 private:
  YAML::Node lookup(std::string_view key) {
    seen_all_.insert(std::string(key));
    if (!node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const std::string k(key);
    const YAML::Node& cnode = node_;
    YAML::Node child = cnode[k];
    if (!child.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
    seen_.insert(k);
    return child;
  }

  static bool parse_int(const std::string& s, std::int64_t& out) {
    const char* b = s.data();
    const char* e = s.data() + s.size();
    auto [p, ec] = std::from_chars(b, e, out);
    return ec == std::errc() && p == e;
  }

  template <class T>
  bool apply_check(const std::string& path, const YAML::Node& n, const Check<T>& check,
                   const T& value) {
    if (!check) return true;
    if (auto reason = check(value)) {
      fail(path, n, *reason);
      return false;
    }
    return true;
  }

  bool read_string_list(const std::string& path, const YAML::Node& n,
                        const Check<std::string>& each, std::vector<std::string>& out) {
    if (n.IsNull()) return true;
    if (n.IsScalar()) {
      // "a,b" is accepted so list flags read naturally: --logs-files /a.log,/b.log
      std::stringstream ss(n.Scalar());
      std::string item;
      while (std::getline(ss, item, ',')) {
        if (!item.empty()) out.push_back(item);
      }
    } else if (n.IsSequence()) {
      for (const auto& item : n) {
        if (!item.IsScalar()) {
          fail(path, item, "expected a list of strings, found " + node_kind(item));
          return false;
        }
        out.push_back(item.Scalar());
      }
    } else {
      fail(path, n, "expected a list, got " + node_kind(n));
      return false;
    }
    bool ok = true;
    for (size_t i = 0; i < out.size(); ++i) {
      ok = apply_check(path + "[" + std::to_string(i) + "]", n.IsSequence() ? n[i] : n, each,
                       out[i]) &&
           ok;
    }
    return ok;
  }

  void fail(const std::string& path, const YAML::Node& n, std::string reason) {
    errors_.push_back({path, origin_.where(path, n), std::move(reason)});
  }

  YAML::Node node_;
  std::string prefix_;
  const Origin& origin_;
  std::vector<ConfigError>& errors_;
  std::set<std::string> seen_;      // keys present in this mapping and bound
  std::set<std::string> seen_all_;  // every key bound here, for suggestions
};

}  // namespace

std::vector<ConfigError> config_detail::read_node(AgentConfig& config, const YAML::Node& root,
                                                  const Origin& origin) {
  std::vector<ConfigError> errors;
  if (root.IsNull() || !root.IsDefined()) return errors;
  if (!root.IsMap()) {
    errors.push_back({"(top level)", origin.where("", root),
                      "expected a mapping of keys, got " + node_kind(root)});
    return errors;
  }
  // Read into a copy so a config with errors leaves the caller's untouched.
  AgentConfig scratch = config;
  YamlReader reader(root, "", origin, errors);
  bind_config(reader, scratch);
  reader.check_unknown_keys();
  if (errors.empty()) config = std::move(scratch);
  return errors;
}

std::string ConfigError::to_string() const {
  return where + ": " + key + ": " + reason;
}

std::vector<ConfigError> apply_yaml(AgentConfig& config, std::string_view yaml_text,
                                    const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::ParserException& e) {
    return {{"(syntax)", source + " line " + std::to_string(e.mark.line + 1), e.msg}};
  }
  return config_detail::read_node(config, root, FileOrigin(source));
}

std::vector<ConfigError> validate(const AgentConfig& c) {
  std::vector<ConfigError> errors;
  if (!c.grpc_listen.empty() && (c.api.tls_cert.empty() || c.api.tls_key.empty())) {
    errors.push_back({"grpc_listen", "effective config",
                      "the TCP listener serves TLS only: set api.tls_cert and api.tls_key "
                      "(--tls-cert, --tls-key), or leave grpc_listen empty"});
  }
  if (c.api.tls_cert.empty() != c.api.tls_key.empty()) {
    errors.push_back(
        {"api.tls_key", "effective config", "api.tls_cert and api.tls_key must be set together"});
  }
  if (!c.api.tls_client_ca.empty() && c.grpc_listen.empty()) {
    errors.push_back({"api.tls_client_ca", "effective config",
                      "client certificates only apply to the TCP listener: set grpc_listen"});
  }
  if (!c.api.allowed_clients.empty() && c.api.tls_client_ca.empty()) {
    errors.push_back({"api.allowed_clients", "effective config",
                      "client identities come from verified client certificates: set "
                      "api.tls_client_ca (--tls-client-ca) too"});
  }
  if (!c.api.allowed_log_clients.empty() && c.api.tls_client_ca.empty()) {
    errors.push_back({"api.allowed_log_clients", "effective config",
                      "client identities come from verified client certificates: set "
                      "api.tls_client_ca (--tls-client-ca) too"});
  }
  if (!c.grpc_listen.empty() && c.api.tls_client_ca.empty()) {
    errors.push_back({"api.tls_client_ca", "effective config",
                      "grpc_listen (--grpc-listen) is set but api.tls_client_ca "
                      "(--tls-client-ca) is not: the TCP listener requires client certificates, "
                      "or anyone who can reach the port could read the node's health; set "
                      "api.tls_client_ca, or leave grpc_listen empty"});
  }
  return errors;
}

}  // namespace ng::agent
