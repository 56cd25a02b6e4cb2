#include <gtest/gtest.h>

#include "tools/ngctl/fleet_targets.h"

namespace ng::ngctl {
namespace {

TEST(FleetTargets, OneAddressPerLineWithCommentsBlanksAndDuplicates) {
  std::vector<std::string> errors;
  const auto t = parse_targets(
      "# rack 1\n"
      "10.0.1.5:9809\n"
      "\n"
      "  node-b.example:9809   # trailing comment\r\n"
      "[fd00::7]:9809\n"
      "10.0.1.5:9809\n",
      &errors);
  EXPECT_TRUE(errors.empty());
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].address, "10.0.1.5:9809");
  EXPECT_EQ(t[1].address, "node-b.example:9809");
  EXPECT_EQ(t[2].address, "[fd00::7]:9809");
}

TEST(FleetTargets, BadLinesAreNamedAndSkipped) {
  std::vector<std::string> errors;
  const auto t = parse_targets(
      "10.0.1.5\nfd00::7:9809\nhost:0\nhost:99999\nhost:9x\n:9809\n"
      "ok:1\nwith space:80\n",
      &errors);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].address, "ok:1");
  ASSERT_EQ(errors.size(), 7u);
  EXPECT_NE(errors[0].find("line 1"), std::string::npos);
  EXPECT_NE(errors[0].find("10.0.1.5"), std::string::npos);
  EXPECT_NE(errors[6].find("line 8"), std::string::npos);
}

TEST(FleetTargets, EmptyAndBinaryInputNeverCrash) {
  std::vector<std::string> errors;
  EXPECT_TRUE(parse_targets("", &errors).empty());
  EXPECT_TRUE(parse_targets(std::string("\0\xff\xfe:\n\x01", 6), &errors).empty());
  EXPECT_FALSE(errors.empty());
}

TEST(FleetTargets, ResolveLoopbackNameAndRejectBadSpecs) {
  std::string error;
  auto t = resolve_targets("localhost:9809", "", &error);
  ASSERT_FALSE(t.empty()) << error;
  for (const auto& x : t) {
    EXPECT_TRUE(x.address == "127.0.0.1:9809" || x.address == "[::1]:9809") << x.address;
    EXPECT_EQ(x.server_name, "localhost");
  }
  t = resolve_targets("localhost:9809", "agent.test", &error);
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(t[0].server_name, "agent.test");
  error.clear();
  EXPECT_TRUE(resolve_targets("no-port", "", &error).empty());
  EXPECT_NE(error.find("NAME:PORT"), std::string::npos);
  error.clear();
  EXPECT_TRUE(resolve_targets("does-not-exist.invalid:9809", "", &error).empty());
  EXPECT_NE(error.find("cannot resolve"), std::string::npos);
}

}  // namespace
}  // namespace ng::ngctl
