#include "netfilter/nft/nft_monitor.h"

#include <gtest/gtest.h>
#include <linux/netfilter/nf_tables.h>

#include <vector>

namespace ng::netfilter {
namespace {

constexpr int kInet = 1;
constexpr int kIp = 2;

struct MonitorFixture : ::testing::Test {
  boost::asio::io_context io;
  NftMonitor monitor{io, core::Logger::discard()};
  std::vector<NftGeneration> gens;
  void SetUp() override {
    monitor.on_generation([this](const NftGeneration& g) { gens.push_back(g); });
  }
};

TEST_F(MonitorFixture, ATransactionNamesItsTablesAndItsWriter) {
  monitor.on_message(NFT_MSG_DELRULE, kIp, "kube-proxy", 0, 0, nullptr);
  monitor.on_message(NFT_MSG_DELTABLE, kIp, "kube-proxy", 0, 0, nullptr);
  monitor.on_message(NFT_MSG_DELTABLE, kInet, "calico", 0, 0, nullptr);
  monitor.on_message(NFT_MSG_NEWGEN, 0, nullptr, 42, 6724, "nft");
  ASSERT_EQ(gens.size(), 1u);
  EXPECT_EQ(gens[0].writer.genid, 42u);
  EXPECT_EQ(gens[0].writer.pid, 6724u);
  EXPECT_EQ(gens[0].writer.comm, "nft");
  ASSERT_EQ(gens[0].tables.size(), 2u);
  EXPECT_EQ(gens[0].tables[0].table, (NftTableRef{kInet, "calico"}));
  EXPECT_TRUE(gens[0].tables[1].got(NFT_MSG_DELTABLE));
  EXPECT_TRUE(gens[0].tables[1].got(NFT_MSG_DELRULE));
  EXPECT_FALSE(gens[0].tables[1].got(NFT_MSG_NEWRULE));
  auto w = monitor.last_writer(Family::kIPv4, "kube-proxy");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->comm, "nft");
  EXPECT_FALSE(monitor.last_writer(Family::kIPv6, "kube-proxy"));
  // The next transaction starts empty.
  monitor.on_message(NFT_MSG_NEWGEN, 0, nullptr, 43, 1, "kube-proxy");
  ASSERT_EQ(gens.size(), 2u);
  EXPECT_TRUE(gens[1].tables.empty());
}

TEST_F(MonitorFixture, TheResolverSeesTheWriterBeforeSubscribers) {
  monitor.set_writer_resolver([](ChangeWriter& w) { w.unit = "nftables.service"; });
  monitor.on_message(NFT_MSG_NEWTABLE, kIp, "nat", 0, 0, nullptr);
  monitor.on_message(NFT_MSG_NEWGEN, 0, nullptr, 7, 99, "nft");
  ASSERT_EQ(gens.size(), 1u);
  EXPECT_EQ(gens[0].writer.unit, "nftables.service");
  EXPECT_EQ(monitor.last_writer(Family::kIPv4, "nat")->unit, "nftables.service");
}

TEST_F(MonitorFixture, MemoryIsBounded) {
  for (size_t i = 0; i < NftGeneration::kMaxTables + 10; ++i) {
    monitor.on_message(NFT_MSG_NEWTABLE, kIp, ("t" + std::to_string(i)).c_str(), 0, 0, nullptr);
  }
  monitor.on_message(NFT_MSG_NEWGEN, 0, nullptr, 1, 1, "x");
  ASSERT_EQ(gens.size(), 1u);
  EXPECT_TRUE(gens[0].truncated);
  EXPECT_EQ(gens[0].tables.size(), NftGeneration::kMaxTables);
  for (int g = 0; g < 10; ++g) {
    for (int i = 0; i < 200; ++i) {
      monitor.on_message(NFT_MSG_NEWTABLE, kInet, ("u" + std::to_string(g * 200 + i)).c_str(), 0, 0,
                         nullptr);
    }
    monitor.on_message(NFT_MSG_NEWGEN, 0, nullptr, 2 + g, 1, "x");
  }
  EXPECT_TRUE(monitor.last_writer(NftTableRef{kInet, "u1999"}));
  EXPECT_FALSE(monitor.last_writer(NftTableRef{kIp, "t0"}));
}

}  // namespace
}  // namespace ng::netfilter
