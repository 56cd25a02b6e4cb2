#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "core/log.h"

namespace ng::core {
namespace {

TEST(Logger, WritesOneParsableJsonObjectPerLine) {
  auto sink = std::make_shared<MemoryLogSink>();
  Logger log(sink, LogLevel::kInfo);
  auto nf = log.with_component("netfilter");
  nf.info(
      "repair applied",
      {{"table", "nat"}, {"chains", 3}, {"dry_run", false}, {"bytes", std::string("a\nb\xFF")}});
  const auto lines = sink->lines();
  ASSERT_EQ(lines.size(), 1u);
  ASSERT_EQ(lines[0].back(), '\n');
  ASSERT_EQ(std::count(lines[0].begin(), lines[0].end(), '\n'), 1);
  // JSON is YAML: yaml-cpp parses it for us.
  YAML::Node n = YAML::Load(lines[0]);
  EXPECT_EQ(n["level"].as<std::string>(), "info");
  EXPECT_EQ(n["component"].as<std::string>(), "netfilter");
  EXPECT_EQ(n["msg"].as<std::string>(), "repair applied");
  EXPECT_EQ(n["table"].as<std::string>(), "nat");
  EXPECT_EQ(n["chains"].as<int>(), 3);
  EXPECT_FALSE(n["dry_run"].as<bool>());
  EXPECT_TRUE(n["ts"].as<std::string>().ends_with("Z"));
}

TEST(Logger, LevelAppliesToEveryCopy) {
  auto sink = std::make_shared<MemoryLogSink>();
  Logger log(sink, LogLevel::kWarn);
  auto child = log.with_component("x");
  child.info("hidden");
  log.set_level(LogLevel::kDebug);
  child.debug("shown");
  ASSERT_EQ(sink->lines().size(), 1u);
  EXPECT_TRUE(sink->contains("shown"));
}

TEST(LogLevel, Parses) {
  EXPECT_EQ(parse_log_level("debug"), LogLevel::kDebug);
  EXPECT_EQ(parse_log_level("warning"), LogLevel::kWarn);
  EXPECT_FALSE(parse_log_level("loud"));
}

}  // namespace
}  // namespace ng::core
