#include "agent/config/config_printer.h"

#include <sstream>

#include "agent/config/config_detail.h"
#include "core/json_writer.h"

namespace ng::agent {
namespace config_detail {

std::string yaml_quote(const std::string& s) {
  std::string out;
  core::append_json_string(out, s);  // a JSON string is a valid YAML double-quoted scalar
  return out;
}

std::string yaml_list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    out += yaml_quote(v[i]);
  }
  return out + "]";
}

std::string number_text(double v) {
  std::ostringstream ss;
  ss << v;
  return ss.str();
}

}  // namespace config_detail

namespace {

using config_detail::number_text;
using config_detail::yaml_list;
using config_detail::yaml_quote;
using core::Check;
using core::ConfigBinder;
using core::Millis;

// Renders the bound fields as block YAML, optionally with doc comments.
class YamlWriter final : public ConfigBinder {
 public:
  YamlWriter(std::string& out, int indent, bool docs) : out_(out), indent_(indent), docs_(docs) {}

  // For list elements: the first key gets "- " in front.
  void set_first_prefix(std::string p) { first_prefix_ = std::move(p); }

  void section(std::string_view key, std::string_view doc,
               const std::function<void(ConfigBinder&)>& body) override {
    if (docs_) blank();
    comment(doc);
    line(std::string(key) + ":");
    YamlWriter sub(out_, indent_ + 2, docs_);
    body(sub);
  }
  void field(std::string_view key, bool& v, std::string_view doc) override {
    emit(key, doc, v ? "true" : "false");
  }
  void field(std::string_view key, std::int64_t& v, std::string_view doc,
             const Check<std::int64_t>&) override {
    emit(key, doc, std::to_string(v));
  }
  void field(std::string_view key, double& v, std::string_view doc, const Check<double>&) override {
    emit(key, doc, number_text(v));
  }
  void field(std::string_view key, std::string& v, std::string_view doc,
             const Check<std::string>&) override {
    emit(key, doc, yaml_quote(v));
  }
  void field(std::string_view key, Millis& v, std::string_view doc, const Check<Millis>&) override {
    emit(key, doc, core::format_duration(v));
  }
  void field(std::string_view key, std::vector<std::string>& v, std::string_view doc,
             const Check<std::string>&) override {
    emit(key, doc, yaml_list(v));
  }
  void field(std::string_view key, std::map<std::string, std::vector<std::string>>& v,
             std::string_view doc, const Check<std::string>&) override {
    if (v.empty()) return emit(key, doc, "{}");
    comment(doc);
    line(std::string(key) + ":");
    for (const auto& [k, items] : v) {
      out_ += std::string(indent_ + 2, ' ') + k + ": " + yaml_list(items) + "\n";
    }
  }
  void objects(std::string_view key, std::string_view doc, core::ObjectList& list) override {
    if (list.size() == 0) return emit(key, doc, "[]");
    comment(doc);
    line(std::string(key) + ":");
    for (size_t i = 0; i < list.size(); ++i) {
      YamlWriter sub(out_, indent_ + 4, false);
      sub.set_first_prefix("- ");
      sub.outer_indent_ = indent_ + 2;
      list.bind_element(i, sub);
    }
  }

 private:
  void blank() {
    if (!out_.empty() && indent_ == 0) out_ += "\n";
  }
  void comment(std::string_view doc) {
    if (!docs_ || doc.empty()) return;
    // Wrap at ~96 columns.
    std::string pad(indent_, ' ');
    std::istringstream words{std::string(doc)};
    std::string word, cur;
    while (words >> word) {
      if (!cur.empty() && pad.size() + 2 + cur.size() + 1 + word.size() > 96) {
        out_ += pad + "# " + cur + "\n";
        cur.clear();
      }
      cur += (cur.empty() ? "" : " ") + word;
    }
    if (!cur.empty()) out_ += pad + "# " + cur + "\n";
  }
  void line(const std::string& text) {
    if (!first_prefix_.empty()) {
      out_ += std::string(outer_indent_, ' ') + first_prefix_ + text + "\n";
      first_prefix_.clear();
    } else {
      out_ += std::string(indent_, ' ') + text + "\n";
    }
  }
  void emit(std::string_view key, std::string_view doc, const std::string& value) {
    comment(doc);
    line(std::string(key) + ": " + value);
  }

  std::string& out_;
  int indent_;
  bool docs_;
  std::string first_prefix_;
  int outer_indent_ = 0;
};

}  // namespace

std::string render_yaml(const AgentConfig& config, bool with_docs) {
  std::string out;
  if (with_docs) {
    out +=
        "# nodeguard configuration. Every key can also be set by a flag: the dotted path with\n"
        "# dashes, e.g. netfilter.poll_interval -> --netfilter-poll-interval 50ms.\n"
        "# Precedence: built-in defaults < this file < flags. See docs/configuration.md.\n\n";
  }
  AgentConfig copy = config;
  YamlWriter writer(out, 0, with_docs);
  bind_config(writer, copy);
  return out;
}

}  // namespace ng::agent
