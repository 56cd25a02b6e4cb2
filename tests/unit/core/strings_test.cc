#include "core/strings.h"

#include <gtest/gtest.h>

namespace ng::core {
namespace {

TEST(Strings, TrimDropsBlanksAtBothEndsOnly) {
  EXPECT_EQ(trim(" \t-A X -j Y\r\n"), "-A X -j Y");
  EXPECT_EQ(trim("a  b"), "a  b");
  EXPECT_EQ(trim(" \n\t"), "");
  EXPECT_EQ(trim(""), "");
}

TEST(Strings, JoinSummarisesPastTheLimit) {
  EXPECT_EQ(join({}, ", "), "");
  EXPECT_EQ(join({"a"}, ", "), "a");
  EXPECT_EQ(join({"a", "b", "c"}, "; "), "a; b; c");
  EXPECT_EQ(join({"a", "b", "c"}, ", ", 3), "a, b, c");
  EXPECT_EQ(join({"a", "b", "c", "d"}, ", ", 2), "a, b, ... (2 more)");
}

}  // namespace
}  // namespace ng::core
