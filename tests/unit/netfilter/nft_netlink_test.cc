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
  int nfproto = 0;
  uint32_t genid = 0;
  uint32_t pid = 0;
  std::string comm;
};

void collect(void* ctx, const ngnft_change* c) {
  static_cast<std::vector<Seen>*>(ctx)->push_back({c->family, c->table ? c->table : "", c->msg,
                                                   c->nfproto, c->genid, c->proc_pid,
                                                   c->proc_name ? c->proc_name : ""});
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

TEST(NftNetlink, TheGenerationNamesTheCommittingProcess) {
  std::vector<char> buf(1 << 16);
  size_t len = 0;
  len += ngnft_build_test_message_nfproto(buf.data(), buf.size(), NFT_MSG_DELTABLE, 1, "calico");
  len += ngnft_build_test_gen_message(buf.data() + len, buf.size() - len, 4711, 6724, "nft");
  std::vector<Seen> seen;
  ASSERT_EQ(ngnft_parse(buf.data(), len, collect, &seen), 2);
  EXPECT_EQ(seen[0].nfproto, 1);  // inet
  EXPECT_EQ(seen[0].family, 0);
  EXPECT_EQ(seen[0].table, "calico");
  EXPECT_EQ(seen[1].msg, NFT_MSG_NEWGEN);
  EXPECT_EQ(seen[1].genid, 4711u);
  EXPECT_EQ(seen[1].pid, 6724u);
  EXPECT_EQ(seen[1].comm, "nft");
}

TEST(NftNetlink, GarbageIsRejectedNotCrashed) {
  std::vector<char> junk(64, '\x7f');
  std::vector<Seen> seen;
  EXPECT_LE(ngnft_parse(junk.data(), junk.size(), collect, &seen), 0);
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(ngnft_parse(junk.data(), 0, collect, &seen), 0);
}

}  // namespace
