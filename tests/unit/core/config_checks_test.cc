#include <gtest/gtest.h>

#include "core/config_binder.h"

namespace ng::core {
namespace {

using namespace std::chrono_literals;

TEST(Duration, ParsesUnitsAndRejectsGarbage) {
  EXPECT_EQ(parse_duration("250ms"), Millis(250));
  EXPECT_EQ(parse_duration("1.5s"), Millis(1500));
  EXPECT_EQ(parse_duration("2m"), Millis(120000));
  EXPECT_EQ(parse_duration("1h"), Millis(3600000));
  EXPECT_EQ(parse_duration("0ms"), Millis(0));
  for (const char* bad : {"", "5", "ms", "-1s", "1d", "1 s", "1.2.3s", "abc"}) {
    EXPECT_FALSE(parse_duration(bad)) << bad;
  }
}

TEST(Duration, FormatsShortestExactUnit) {
  EXPECT_EQ(format_duration(Millis(100)), "100ms");
  EXPECT_EQ(format_duration(Millis(5000)), "5s");
  EXPECT_EQ(format_duration(Millis(120000)), "2m");
  EXPECT_EQ(format_duration(Millis(7200000)), "2h");
  EXPECT_EQ(format_duration(Millis(1500)), "1500ms");
  EXPECT_EQ(format_duration(Millis(0)), "0ms");
}

TEST(HostPort, AcceptsCommonFormsOnly) {
  auto hp = parse_host_port("127.0.0.1:9746");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, 9746);
  hp = parse_host_port("[::1]:80");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "::1");
  hp = parse_host_port(":9746");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "");
  for (const char* bad : {"", "9746", "host:", "host:99999", "::1:80", "[::1]80", "h:p"}) {
    EXPECT_FALSE(parse_host_port(bad)) << bad;
  }
}

TEST(Checks, ExplainWhy) {
  EXPECT_FALSE(int_range(1, 10)(5));
  EXPECT_NE(int_range(1, 10)(11)->find("between 1 and 10"), std::string::npos);
  EXPECT_FALSE(one_of({"a", "b"})("a"));
  EXPECT_NE(one_of({"a", "b"})("c")->find("must be one of a, b"), std::string::npos);
  EXPECT_FALSE(duration_range(1ms, 1s)(Millis(10)));
  EXPECT_TRUE(duration_range(1ms, 1s)(Millis(2000)));
  EXPECT_FALSE(cidr()("10.244.0.0/24"));
  EXPECT_FALSE(cidr()("fd00::/64"));
  EXPECT_TRUE(cidr()("10.244.0.0/33"));
  EXPECT_TRUE(cidr()("10.244.0.0"));
  EXPECT_TRUE(cidr()("banana/24"));
  EXPECT_FALSE(ip_address()("192.168.1.1"));
  EXPECT_TRUE(ip_address()("192.168.1"));
  EXPECT_FALSE(absolute_path(true)(""));
  EXPECT_TRUE(absolute_path(false)(""));
  EXPECT_TRUE(absolute_path(false)("relative/path"));
}

}  // namespace
}  // namespace ng::core
