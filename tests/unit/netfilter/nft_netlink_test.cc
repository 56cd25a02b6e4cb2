#include "netfilter/nft/nft_netlink.h"

#include <gtest/gtest.h>
#include <linux/netfilter/nf_tables.h>

#include <string>
#include <vector>

namespace {

struct Seen {
  int family;
  std::string table;
  int msg;
};

void collect(void* ctx, int family, const char* table, int msg) {
  static_cast<std::vector<Seen>*>(ctx)->push_back({family, table ? table : "", msg});
}

TEST(NftNetlink, ParsesTableOfEveryChangeAndTheGenerationEnd) {
  std::vector<char> buf(1 << 16);
  size_t len = 0;
  len += ngnft_build_test_message(buf.data() + len, buf.size() - len, NFT_MSG_DELRULE, 4, "nat");
  len +=
      ngnft_build_test_message(buf.data() + len, buf.size() - len, NFT_MSG_DELCHAIN, 6, "filter");
  len +=
      ngnft_build_test_message(buf.data() + len, buf.size() - len, NFT_MSG_NEWRULE, 0, "firewalld");
  len += ngnft_build_test_message(buf.data() + len, buf.size() - len, NFT_MSG_NEWGEN, 0, nullptr);
  std::vector<Seen> seen;
  ASSERT_EQ(ngnft_parse(buf.data(), len, collect, &seen), 4);
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].family, 4);
  EXPECT_EQ(seen[0].table, "nat");
  EXPECT_EQ(seen[1].family, 6);
  EXPECT_EQ(seen[1].table, "filter");
  EXPECT_EQ(seen[2].family, 0);  // inet: not an iptables table
  EXPECT_EQ(seen[3].msg, NFT_MSG_NEWGEN);
  EXPECT_EQ(seen[3].table, "");
}

TEST(NftNetlink, GarbageIsRejectedNotCrashed) {
  std::vector<char> junk(64, '\x7f');
  std::vector<Seen> seen;
  EXPECT_LE(ngnft_parse(junk.data(), junk.size(), collect, &seen), 0);
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(ngnft_parse(junk.data(), 0, collect, &seen), 0);
}

}  // namespace
