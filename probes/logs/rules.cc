#include "probes/logs/rules.h"

#include <nlohmann/json.hpp>
#include <optional>
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

// The string member `key` of `obj`, or "" when it is missing or not a string.
std::string string_field(const json& obj, const char* key) {
  return obj.contains(key) && obj[key].is_string() ? obj[key].get<std::string>() : "";
}

// Warns about each field of `obj` not in `known`; `where` starts the message.
void warn_unknown_fields(const json& obj, const std::set<std::string>& known,
                         const std::string& where, std::vector<std::string>& warnings) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (!known.count(it.key())) {
      warnings.push_back(where + ": unknown field \"" + it.key() + "\" ignored");
    }
  }
}

// The document as a JSON object, or nothing with the error in `into`.
std::optional<json> parse_document(std::string_view text, const std::string& name, RuleSet& into) {
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    // parse_error, and out_of_range for a number too large for a double (1e999).
    into.errors.push_back(name + ": not valid JSON: " + e.what());
    return std::nullopt;
  }
  if (!doc.is_object()) {
    into.errors.push_back(name + ": the document must be a JSON object, got " + type_name(doc));
    return std::nullopt;
  }
  return doc;
}

// One entry of "conditions", or nothing with its error in `into`.
std::optional<ConditionDefault> parse_condition(const json& c, const std::string& where,
                                                RuleSet& into) {
  static const std::set<std::string> kKnownCond = {"type",     "reason", "message",
                                                   "severity", "status", "transition"};
  if (!c.is_object() || string_field(c, "type").empty()) {
    into.errors.push_back(where + ": needs a non-empty string \"type\"");
    return std::nullopt;
  }
  ConditionDefault d;
  d.type = c["type"].get<std::string>();
  d.origin = where;
  warn_unknown_fields(c, kKnownCond, where + " (" + d.type + ")", into.warnings);
  d.reason = string_field(c, "reason");
  d.message = string_field(c, "message");
  if (c.contains("severity") && !parse_severity(c["severity"], &d.severity)) {
    into.errors.push_back(where + " (" + d.type + "): \"severity\" must be info, warning or error");
    return std::nullopt;
  }
  return d;
}

// The file's "conditions" into `into` and their types into `declared`; false when the file is
// rejected.
bool parse_conditions(const json& doc, const std::string& name, RuleSet& into,
                      std::set<std::string>& declared) {
  if (!doc.contains("conditions")) return true;
  const auto& conds = doc["conditions"];
  if (!conds.is_array()) {
    into.errors.push_back(name + ": \"conditions\" must be an array");
    return false;
  }
  for (size_t i = 0; i < conds.size(); ++i) {
    auto d = parse_condition(conds[i], name + " condition " + std::to_string(i + 1), into);
    if (!d) continue;
    declared.insert(d->type);
    into.conditions.push_back(std::move(*d));
  }
  return true;
}

// What a file's rules share.
struct RuleFile {
  const json& doc;
  const std::string& name;
  std::string monitor;  // the file's "source"
  unsigned sources = kAllSources;
  std::set<std::string> declared;  // condition types of "conditions"
};

// A rule's "type", "pattern" and "severity"; the error after the rule's name, or "".
std::string read_type_and_pattern(const json& r, Rule& rule) {
  const std::string type = r.contains("type") && r["type"].is_string()
                               ? r["type"].get<std::string>()
                               : std::string("<missing>");
  if (type == "temporary") {
    rule.type = RuleType::kTemporary;
  } else if (type == "permanent") {
    rule.type = RuleType::kPermanent;
  } else {
    return ": \"type\" must be temporary or permanent, got " + type;
  }
  rule.pattern = string_field(r, "pattern");
  if (rule.pattern.empty()) return ": needs a non-empty string \"pattern\"";
  if (r.contains("severity") && !parse_severity(r["severity"], &rule.severity)) {
    return ": \"severity\" must be info, warning or error";
  }
  return "";
}

// A rule's "appliesTo" and "matchQuoted"; sets *explicit_sources when the rule names its sources.
// The error after the rule's name, or "".
std::string read_sources(const json& r, Rule& rule, bool* explicit_sources) {
  if (r.contains("appliesTo")) {
    std::string why;
    if (!parse_applies_to(r["appliesTo"], &rule.sources, &why)) return ": " + why;
    *explicit_sources = true;
  }
  rule.match_quoted = rule.type == RuleType::kTemporary;
  if (r.contains("matchQuoted")) {
    if (!r["matchQuoted"].is_boolean()) return ": \"matchQuoted\" must be true or false";
    rule.match_quoted = r["matchQuoted"].get<bool>();
  }
  return "";
}

// A permanent rule's node condition: declared, and never from container lines. The error after
// the rule's name, or "".
std::string read_condition(const json& r, const RuleFile& f, bool explicit_sources,
                           const std::string& where, Rule& rule,
                           std::vector<std::string>& warnings) {
  if (rule.type != RuleType::kPermanent) {
    if (r.contains("condition")) {
      warnings.push_back(where + ": \"condition\" is ignored on a temporary rule");
    }
    return "";
  }
  // A node condition: pods write container lines, so those never set one.
  if (rule.sources & source_bit(SourceKind::kContainer)) {
    rule.sources &= kNodeSources;
    if (explicit_sources) {
      warnings.push_back(where +
                         ": a permanent rule sets a node condition and never applies "
                         "to container lines (pods write them)");
    }
  }
  if (rule.sources == 0) {
    return ": a permanent rule needs \"appliesTo\" kubelet or file (container "
           "lines never set node conditions)";
  }
  rule.condition = string_field(r, "condition");
  if (rule.condition.empty()) return ": a permanent rule needs \"condition\"";
  if (!f.declared.count(rule.condition)) {
    return ": condition \"" + rule.condition + "\" is not declared in \"conditions\"";
  }
  return "";
}

// One entry of "rules", or nothing with its error in `into`.
std::optional<Rule> parse_rule(const json& r, std::string where, const RuleFile& f, RuleSet& into) {
  static const std::set<std::string> kKnownRule = {
      "type",     "condition", "reason",      "pattern",
      "severity", "appliesTo", "matchQuoted", "patternGeneratedMessageSuffix"};
  if (!r.is_object()) {
    into.errors.push_back(where + ": must be an object");
    return std::nullopt;
  }
  Rule rule;
  rule.reason = string_field(r, "reason");
  if (!rule.reason.empty()) where += " (" + rule.reason + ")";
  rule.origin = where;
  rule.monitor = f.monitor;
  rule.sources = f.sources;
  warn_unknown_fields(r, kKnownRule, where, into.warnings);
  if (rule.reason.empty()) {
    into.errors.push_back(where + ": needs a non-empty string \"reason\"");
    return std::nullopt;
  }
  bool explicit_sources = f.doc.contains("appliesTo");
  std::string error = read_type_and_pattern(r, rule);
  if (error.empty()) error = read_sources(r, rule, &explicit_sources);
  if (error.empty()) error = read_condition(r, f, explicit_sources, where, rule, into.warnings);
  if (!error.empty()) {
    into.errors.push_back(where + error);
    return std::nullopt;
  }
  return rule;
}

void parse_rules(const RuleFile& f, RuleSet& into) {
  if (!f.doc.contains("rules")) {
    into.warnings.push_back(f.name + ": no \"rules\"");
    return;
  }
  const auto& rules = f.doc["rules"];
  if (!rules.is_array()) {
    into.errors.push_back(f.name + ": \"rules\" must be an array");
    return;
  }
  for (size_t i = 0; i < rules.size(); ++i) {
    auto rule = parse_rule(rules[i], f.name + " rule " + std::to_string(i + 1), f, into);
    if (rule) into.rules.push_back(std::move(*rule));
  }
}

}  // namespace

void parse_rule_file(std::string_view text, const std::string& name, RuleSet& into) {
  static const std::set<std::string> kKnownTop = {
      "plugin", "pluginConfig",     "logPath",    "lookback", "delay",    "bufferSize",
      "source", "metricsReporting", "conditions", "rules",    "appliesTo"};
  const std::optional<json> doc = parse_document(text, name, into);
  if (!doc) return;
  warn_unknown_fields(*doc, kKnownTop, name, into.warnings);
  RuleFile f{*doc, name, string_field(*doc, "source"), kAllSources, {}};
  std::string why;
  if (!file_sources(*doc, name, &f.sources, &into.warnings, &why)) {
    into.errors.push_back(name + ": " + why);
    return;
  }
  // NPD matches against its last bufferSize lines joined; nodeguard matches each line alone,
  // which is what single-line patterns (nearly all) need, so bufferSize is accepted and unused.
  into.files++;
  if (!parse_conditions(*doc, name, into, f.declared)) return;
  parse_rules(f, into);
}

}  // namespace ng::probes::logs
