#include <gtest/gtest.h>

#include "core/json_writer.h"

namespace ng::core {
namespace {

std::string quoted(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(JsonString, EscapesControlAndQuotes) {
  EXPECT_EQ(quoted("a\"b\\c\n\t\x01"), "\"a\\\"b\\\\c\\n\\t\\u0001\"");
}

TEST(JsonString, KeepsValidUtf8AndReplacesInvalid) {
  EXPECT_EQ(quoted("h\xC3\xA9llo"), "\"h\xC3\xA9llo\"");
  EXPECT_EQ(quoted("\xFF"), "\"\xEF\xBF\xBD\"");
  EXPECT_EQ(quoted("\xC3"), "\"\xEF\xBF\xBD\"");                  // truncated sequence
  EXPECT_EQ(quoted("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");  // overlong '/'
  EXPECT_EQ(quoted("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
  EXPECT_EQ(sanitize_utf8("ok\xFFok"), "ok\xEF\xBF\xBDok");
}

TEST(JsonObjectWriter, WritesFieldsInOrder) {
  JsonObjectWriter w;
  w.field("s", "x").field("i", std::int64_t{-3}).field("b", true).field("d", 0.5);
  w.raw_field("o", "{\"k\":1}");
  EXPECT_EQ(std::move(w).finish(), R"({"s":"x","i":-3,"b":true,"d":0.5,"o":{"k":1}})");
}

}  // namespace
}  // namespace ng::core
