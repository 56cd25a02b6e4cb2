#include "tests/fakes/fake_netfilter_backend.h"

#include <gmock/gmock.h>

namespace ng::testing {
namespace {

using netfilter::Family;

TEST(FakeNetfilterBackend, RejectsJumpToMissingChainAndKeepsState) {
  FakeNetfilterBackend fake;
  fake.load(Family::kIPv4, "*nat\n:PREROUTING ACCEPT [0:0]\n:A - [0:0]\n-A A -j RETURN\nCOMMIT\n");
  const auto before = fake.save(Family::kIPv4, "nat");
  auto st = fake.apply_restore(Family::kIPv4, "*nat\n-A PREROUTING -j MISSING\nCOMMIT\n");
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.error().message, ::testing::HasSubstr("missing chain MISSING"));
  EXPECT_EQ(fake.save(Family::kIPv4, "nat"), before);
}

TEST(FakeNetfilterBackend, NoflushDeclarationFlushesUserChainsOnly) {
  FakeNetfilterBackend fake;
  fake.load(
      Family::kIPv4,
      "*nat\n:PREROUTING ACCEPT [0:0]\n:A - [0:0]\n-A PREROUTING -j A\n-A A -j RETURN\nCOMMIT\n");
  ASSERT_TRUE(fake.apply_restore(Family::kIPv4, "*nat\n:A - [0:0]\n-A A -j ACCEPT\nCOMMIT\n").ok());
  auto t = fake.table(Family::kIPv4, "nat");
  EXPECT_EQ(t->find("A")->rules.size(), 1u);
  EXPECT_EQ(t->find("A")->rules[0].target, "ACCEPT");
  EXPECT_EQ(t->find("PREROUTING")->rules.size(), 1u);
}

TEST(FakeNetfilterBackend, InsertDeleteByNumberAndSpec) {
  FakeNetfilterBackend fake;
  fake.load(Family::kIPv4,
            "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 1.1.1.1/32 -j DROP\nCOMMIT\n");
  ASSERT_TRUE(
      fake.apply_restore(
              Family::kIPv4,
              "*filter\n-I INPUT 1 -s 2.2.2.2/32 -j DROP\n-D INPUT -s 1.1.1.1/32 -j DROP\nCOMMIT\n")
          .ok());
  auto t = fake.table(Family::kIPv4, "filter");
  ASSERT_EQ(t->find("INPUT")->rules.size(), 1u);
  EXPECT_EQ(t->find("INPUT")->rules[0].spec, "-s 2.2.2.2/32 -j DROP");
  EXPECT_FALSE(fake.apply_restore(Family::kIPv4, "*filter\n-D INPUT 5\nCOMMIT\n").ok());
  EXPECT_FALSE(fake.apply_restore(Family::kIPv4, "*filter\n-I INPUT 9 -j DROP\nCOMMIT\n").ok());
}

}  // namespace
}  // namespace ng::testing
