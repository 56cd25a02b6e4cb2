#include "probes/logs/rules.h"

#include <nlohmann/json.hpp>
#include <set>

namespace ng::probes::logs {
namespace {

using json = nlohmann::json;

std::string type_name(const json& v) {
  return v.type_name();
}

bool parse_severity(const json& v, core::Severity* out) {
  if (!v.is_string()) return false;
  const auto s = v.get<std::string>();
  if (s == "info")
    *out = core::Severity::kInfo;
  else if (s == "warning")
    *out = core::Severity::kWarning;
  else if (s == "error")
    *out = core::Severity::kError;
  else
    return false;
  return true;
}

// "appliesTo": a non-empty array of container, kubelet, file.
bool parse_applies_to(const json& a, unsigned* out, std::string* why) {
  if (!a.is_array() || a.empty()) {
    *why = "\"appliesTo\" must be a non-empty array of container, kubelet, file";
    return false;
  }
  unsigned bits = 0;
  for (const auto& v : a) {
    const std::string s = v.is_string() ? v.get<std::string>() : "";
    if (s == "container")
      bits |= source_bit(SourceKind::kContainer);
    else if (s == "kubelet")
      bits |= source_bit(SourceKind::kKubelet);
    else if (s == "file")
      bits |= source_bit(SourceKind::kFile);
    else {
      *why = "\"appliesTo\" entries must be container, kubelet or file; got " + v.dump();
      return false;
    }
  }
  *out = bits;
  return true;
}

// Which sources a file's rules read, from NPD's plugin settings or nodeguard's "appliesTo".
// Returns false with *why when the value is unusable.
bool file_sources(const json& doc, const std::string& name, unsigned* out,
                  std::vector<std::string>* warnings, std::string* why) {
  *out = kAllSources;
  if (doc.contains("appliesTo")) return parse_applies_to(doc["appliesTo"], out, why);
  if (!doc.contains("plugin")) return true;
  const std::string plugin = doc["plugin"].is_string() ? doc["plugin"].get<std::string>() : "";
  if (plugin == "journald") {
    std::string src;
    if (doc.contains("pluginConfig") && doc["pluginConfig"].is_object() &&
        doc["pluginConfig"].contains("source") && doc["pluginConfig"]["source"].is_string()) {
      src = doc["pluginConfig"]["source"].get<std::string>();
    }
    if (src == "kubelet" || src == "kubelet.service") {
      *out = source_bit(SourceKind::kKubelet);
    } else {
      warnings->push_back(name + ": journald source \"" + src +
                          "\" is not read by nodeguard (only kubelet); its rules apply to every "
                          "source");
    }
  } else if (plugin == "filelog") {
    *out = source_bit(SourceKind::kFile) | source_bit(SourceKind::kKubelet);
  } else if (plugin == "kmsg") {
    warnings->push_back(name +
                        ": plugin kmsg: nodeguard does not read the kernel log; its rules apply "
                        "to every source nodeguard reads (add kern.log to logs.files for kernel "
                        "messages)");
  } else {
    warnings->push_back(name + ": unknown plugin " + doc["plugin"].dump() +
                        "; its rules apply to every source");
  }
  return true;
}

}  // namespace

void parse_rule_file(std::string_view text, const std::string& name, RuleSet& into) {
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    // parse_error, and out_of_range for a number too large for a double (1e999).
    into.errors.push_back(name + ": not valid JSON: " + e.what());
    return;
  }
  if (!doc.is_object()) {
    into.errors.push_back(name + ": the document must be a JSON object, got " + type_name(doc));
    return;
  }
  static const std::set<std::string> kKnownTop = {
      "plugin", "pluginConfig",     "logPath",    "lookback", "delay",    "bufferSize",
      "source", "metricsReporting", "conditions", "rules",    "appliesTo"};
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (!kKnownTop.count(it.key())) {
      into.warnings.push_back(name + ": unknown field \"" + it.key() + "\" ignored");
    }
  }
  unsigned sources = kAllSources;
  std::string why;
  if (!file_sources(doc, name, &sources, &into.warnings, &why)) {
    into.errors.push_back(name + ": " + why);
    return;
  }
  const std::string monitor =
      doc.contains("source") && doc["source"].is_string() ? doc["source"].get<std::string>() : "";
  // NPD matches against its last bufferSize lines joined; nodeguard matches each line alone,
  // which is what single-line patterns (nearly all) need, so bufferSize is accepted and unused.
  into.files++;

  std::set<std::string> declared;
  if (doc.contains("conditions")) {
    const auto& conds = doc["conditions"];
    if (!conds.is_array()) {
      into.errors.push_back(name + ": \"conditions\" must be an array");
      return;
    }
    static const std::set<std::string> kKnownCond = {"type",     "reason", "message",
                                                     "severity", "status", "transition"};
    for (size_t i = 0; i < conds.size(); ++i) {
      const auto& c = conds[i];
      const std::string where = name + " condition " + std::to_string(i + 1);
      if (!c.is_object() || !c.contains("type") || !c["type"].is_string() ||
          c["type"].get<std::string>().empty()) {
        into.errors.push_back(where + ": needs a non-empty string \"type\"");
        continue;
      }
      ConditionDefault d;
      d.type = c["type"].get<std::string>();
      d.origin = where;
      for (auto it = c.begin(); it != c.end(); ++it) {
        if (!kKnownCond.count(it.key())) {
          into.warnings.push_back(where + " (" + d.type + "): unknown field \"" + it.key() +
                                  "\" ignored");
        }
      }
      if (c.contains("reason") && c["reason"].is_string())
        d.reason = c["reason"].get<std::string>();
      if (c.contains("message") && c["message"].is_string()) {
        d.message = c["message"].get<std::string>();
      }
      if (c.contains("severity") && !parse_severity(c["severity"], &d.severity)) {
        into.errors.push_back(where + " (" + d.type +
                              "): \"severity\" must be info, warning or error");
        continue;
      }
      declared.insert(d.type);
      into.conditions.push_back(std::move(d));
    }
  }
  if (!doc.contains("rules")) {
    into.warnings.push_back(name + ": no \"rules\"");
    return;
  }
  const auto& rules = doc["rules"];
  if (!rules.is_array()) {
    into.errors.push_back(name + ": \"rules\" must be an array");
    return;
  }
  static const std::set<std::string> kKnownRule = {
      "type",     "condition", "reason",      "pattern",
      "severity", "appliesTo", "matchQuoted", "patternGeneratedMessageSuffix"};
  for (size_t i = 0; i < rules.size(); ++i) {
    const auto& r = rules[i];
    std::string where = name + " rule " + std::to_string(i + 1);
    if (!r.is_object()) {
      into.errors.push_back(where + ": must be an object");
      continue;
    }
    Rule rule;
    if (r.contains("reason") && r["reason"].is_string())
      rule.reason = r["reason"].get<std::string>();
    if (!rule.reason.empty()) where += " (" + rule.reason + ")";
    rule.origin = where;
    rule.monitor = monitor;
    rule.sources = sources;
    for (auto it = r.begin(); it != r.end(); ++it) {
      if (!kKnownRule.count(it.key())) {
        into.warnings.push_back(where + ": unknown field \"" + it.key() + "\" ignored");
      }
    }
    if (rule.reason.empty()) {
      into.errors.push_back(where + ": needs a non-empty string \"reason\"");
      continue;
    }
    const std::string type = r.contains("type") && r["type"].is_string()
                                 ? r["type"].get<std::string>()
                                 : std::string("<missing>");
    if (type == "temporary") {
      rule.type = RuleType::kTemporary;
    } else if (type == "permanent") {
      rule.type = RuleType::kPermanent;
    } else {
      into.errors.push_back(where + ": \"type\" must be temporary or permanent, got " + type);
      continue;
    }
    if (!r.contains("pattern") || !r["pattern"].is_string() ||
        r["pattern"].get<std::string>().empty()) {
      into.errors.push_back(where + ": needs a non-empty string \"pattern\"");
      continue;
    }
    rule.pattern = r["pattern"].get<std::string>();
    if (r.contains("severity") && !parse_severity(r["severity"], &rule.severity)) {
      into.errors.push_back(where + ": \"severity\" must be info, warning or error");
      continue;
    }
    bool explicit_sources = doc.contains("appliesTo");
    if (r.contains("appliesTo")) {
      if (!parse_applies_to(r["appliesTo"], &rule.sources, &why)) {
        into.errors.push_back(where + ": " + why);
        continue;
      }
      explicit_sources = true;
    }
    rule.match_quoted = rule.type == RuleType::kTemporary;
    if (r.contains("matchQuoted")) {
      if (!r["matchQuoted"].is_boolean()) {
        into.errors.push_back(where + ": \"matchQuoted\" must be true or false");
        continue;
      }
      rule.match_quoted = r["matchQuoted"].get<bool>();
    }
    if (rule.type == RuleType::kPermanent) {
      // A node condition: pods write container lines, so those never set one.
      if (rule.sources & source_bit(SourceKind::kContainer)) {
        rule.sources &= kNodeSources;
        if (explicit_sources) {
          into.warnings.push_back(where +
                                  ": a permanent rule sets a node condition and never applies "
                                  "to container lines (pods write them)");
        }
      }
      if (rule.sources == 0) {
        into.errors.push_back(where +
                              ": a permanent rule needs \"appliesTo\" kubelet or file (container "
                              "lines never set node conditions)");
        continue;
      }
      if (!r.contains("condition") || !r["condition"].is_string() ||
          r["condition"].get<std::string>().empty()) {
        into.errors.push_back(where + ": a permanent rule needs \"condition\"");
        continue;
      }
      rule.condition = r["condition"].get<std::string>();
      if (!declared.count(rule.condition)) {
        into.errors.push_back(where + ": condition \"" + rule.condition +
                              "\" is not declared in \"conditions\"");
        continue;
      }
    } else if (r.contains("condition")) {
      into.warnings.push_back(where + ": \"condition\" is ignored on a temporary rule");
    }
    into.rules.push_back(std::move(rule));
  }
}

}  // namespace ng::probes::logs
