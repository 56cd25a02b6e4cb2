#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ng::core {

// Appends s as a JSON string literal. Invalid UTF-8 (container logs carry anything) becomes
// U+FFFD so the output is always valid JSON that Fluent Bit and Filebeat accept.
void append_json_string(std::string& out, std::string_view s);

// Replaces invalid UTF-8 sequences with U+FFFD; valid input is returned unchanged.
std::string sanitize_utf8(std::string_view s);

// A tiny streaming object writer for log lines and --print output; no DOM.
class JsonObjectWriter {
 public:
  JsonObjectWriter() { out_.push_back('{'); }
  JsonObjectWriter& field(std::string_view key, std::string_view value);
  JsonObjectWriter& field(std::string_view key, const char* value) {
    return field(key, std::string_view(value));
  }
  JsonObjectWriter& field(std::string_view key, std::int64_t value);
  JsonObjectWriter& field(std::string_view key, double value);
  JsonObjectWriter& field(std::string_view key, bool value);
  // value must already be valid JSON (a nested object or array).
  JsonObjectWriter& raw_field(std::string_view key, std::string_view json);
  std::string finish() &&;

 private:
  void key(std::string_view k);
  std::string out_;
  bool first_ = true;
};

}  // namespace ng::core
