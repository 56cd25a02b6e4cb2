#include "probes/routes/ip_prefix.h"

#include <gtest/gtest.h>

namespace ng::probes::routes {
namespace {

TEST(IpPrefix, ParsesAndPrints) {
  auto p = IpPrefix::parse("10.244.1.0/26");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->to_string(), "10.244.1.0/26");
  EXPECT_EQ(IpPrefix::parse("fd00:10::/64")->to_string(), "fd00:10::/64");
  EXPECT_EQ(IpPrefix::parse("10.0.0.1")->length, 32);
  EXPECT_EQ(IpPrefix::parse("::/0")->length, 0);
}

TEST(IpPrefix, RejectsBadInput) {
  for (const char* s : {"", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "300.1.1.1/8", "fd00::/129",
                        "10.244.1.1/26", "nope", "10.0.0.0/-1"}) {
    EXPECT_FALSE(IpPrefix::parse(s)) << s;
  }
  EXPECT_EQ(IpPrefix::parse("10.244.1.1/26", true)->to_string(), "10.244.1.0/26");
}

TEST(IpPrefix, Contains) {
  auto p = *IpPrefix::parse("192.168.1.0/24");
  EXPECT_TRUE(p.contains(*IpAddress::parse("192.168.1.200")));
  EXPECT_FALSE(p.contains(*IpAddress::parse("192.168.2.1")));
  EXPECT_FALSE(p.contains(*IpAddress::parse("::1")));
  auto q = *IpPrefix::parse("10.244.0.0/17");
  EXPECT_TRUE(q.contains(*IpPrefix::parse("10.244.127.192/26")));
  EXPECT_FALSE(q.contains(*IpPrefix::parse("10.244.128.0/26")));
  EXPECT_TRUE(IpPrefix::parse("fd00::/8")->contains(*IpAddress::parse("fd12::1")));
}

TEST(IpAddress, Kinds) {
  EXPECT_TRUE(IpAddress::parse("169.254.1.1")->is_link_local());
  EXPECT_TRUE(IpAddress::parse("fe80::1")->is_link_local());
  EXPECT_TRUE(IpAddress::parse("127.0.0.53")->is_loopback());
  EXPECT_TRUE(IpAddress::parse("::1")->is_loopback());
  EXPECT_FALSE(IpAddress::parse("10.0.0.1")->is_loopback());
  EXPECT_EQ(IpAddress::v4(0x0a000001).to_string(), "10.0.0.1");
}

}  // namespace
}  // namespace ng::probes::routes
