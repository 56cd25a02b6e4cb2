// Reads of an nft table built from a netlink dump alone (NftRuleTexts), against tables and
// dumps captured from the real kernel (data/nft-<family>-<table>.{save,hex}): the same table as
// iptables-nft-save printed, or nothing when something cannot be vouched for.
#include "netfilter/nft/nft_rule_texts.h"

#include <gtest/gtest.h>

#include <linux/netfilter/nf_tables.h>

#include <cstring>
#include <sstream>

#include "netfilter/save_codec.h"
#include "tests/unit/netfilter/nft_capture.h"

namespace ng::netfilter {
namespace {

testing::NftCapture captured(const std::string& family, const std::string& table) {
  return testing::nft_capture(family, table);
}

std::string plain(const Table& t) {
  return render_table(t, RenderOptions{.comments = false, .counters = false, .blobs = true});
}

class NftRuleTextsCapture : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(NftRuleTextsCapture, ADumpOfKnownRulesReadsAsTheSavedText) {
  auto c = captured(GetParam().first, GetParam().second);
  NftRuleTexts texts;
  texts.learn(c.text);
  EXPECT_GT(texts.size(), 5u);
  auto t = texts.table_from_dump(c.kernel);
  ASSERT_TRUE(t);
  // Same chains in the same order (built-ins first, user chains by name), same rules, same
  // policies, every rule carrying its kernel encoding.
  EXPECT_EQ(plain(*t), plain(c.text));
  for (const auto& ch : t->chains) {
    for (const auto& r : ch.rules) EXPECT_FALSE(r.blob.empty()) << ch.name << " " << r.spec;
  }
}

TEST_P(NftRuleTextsCapture, AnEncodingNeverPairedSendsTheReadToTheTool) {
  auto c = captured(GetParam().first, GetParam().second);
  NftRuleTexts nothing;
  EXPECT_FALSE(nothing.table_from_dump(c.kernel));
  // Known but for one rule's encoding (identical rules share one): still no.
  Table partial = c.text;
  std::string gone;
  for (auto& ch : partial.chains) {
    if (gone.empty() && !ch.rules.empty()) gone = ch.rules.back().blob;
    std::erase_if(ch.rules, [&](const Rule& r) { return !gone.empty() && r.blob == gone; });
  }
  ASSERT_FALSE(gone.empty());
  NftRuleTexts texts;
  texts.learn(partial);
  EXPECT_FALSE(texts.table_from_dump(c.kernel));
}

INSTANTIATE_TEST_SUITE_P(
    Tables, NftRuleTextsCapture,
    ::testing::Values(std::make_pair("ipv4", "nat"), std::make_pair("ipv4", "filter"),
                      std::make_pair("ipv6", "nat"), std::make_pair("ipv6", "filter")),
    [](const auto& info) { return std::string(info.param.first) + "_" + info.param.second; });

TEST(NftRuleTexts, PoliciesComeFromTheKernel) {
  auto c = captured("ipv4", "filter");
  NftRuleTexts texts;
  texts.learn(c.text);
  NftKernelChain* fwd = c.kernel.find("FORWARD");
  ASSERT_TRUE(fwd);
  fwd->policy = 0;  // NF_DROP
  auto t = texts.table_from_dump(c.kernel);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->find("FORWARD")->policy, "DROP");
  fwd->policy = -1;  // no policy attribute: not something iptables-nft made
  EXPECT_FALSE(texts.table_from_dump(c.kernel));
}

TEST(NftRuleTexts, WhatIsNotIptablesNftsGoesToTheTool) {
  auto c = captured("ipv4", "nat");
  NftRuleTexts texts;
  texts.learn(c.text);
  ASSERT_TRUE(texts.table_from_dump(c.kernel));
  {
    auto k = c.kernel;
    k.flags = 1;  // dormant or owned by a process
    EXPECT_FALSE(texts.table_from_dump(k));
  }
  {
    auto k = c.kernel;
    NftKernelChain foreign;
    foreign.name = "my-nft-hook";
    foreign.base = true;
    foreign.policy = 1;
    k.chains.push_back(foreign);
    EXPECT_FALSE(texts.table_from_dump(k));
  }
  {
    auto k = c.kernel;
    for (auto& ch : k.chains) {
      if (ch.name == "PREROUTING") ch.base = false;  // a user chain named like a built-in
    }
    EXPECT_FALSE(texts.table_from_dump(k));
  }
  {
    auto k = c.kernel;
    for (auto& ch : k.chains) {
      if (!ch.rules.empty()) {
        ch.rules.front().attrs.clear();  // expressions we do not replay
        break;
      }
    }
    EXPECT_FALSE(texts.table_from_dump(k));
  }
}

TEST(NftRuleTexts, ATableTheKernelDoesNotHoldIsItsEmptyBuiltIns) {
  NftKernelTable k;
  k.name = "nat";
  NftRuleTexts texts;
  auto t = texts.table_from_dump(k);
  ASSERT_TRUE(t);
  std::vector<std::string> names;
  for (const auto& ch : t->chains) {
    names.push_back(ch.name);
    EXPECT_EQ(ch.policy, "ACCEPT");
    EXPECT_TRUE(ch.rules.empty());
  }
  EXPECT_EQ(names, builtin_chains("nat"));
  k.name = "no-such-table";
  EXPECT_FALSE(texts.table_from_dump(k));
}

TEST(NftRuleTexts, UserChainsSortByteWiseLikeTheTool) {
  NftKernelTable k;
  k.name = "filter";
  k.exists = true;
  for (const char* n : {"cali-x", "KUBE-b", "KUBE-A", "a6", "Z6"}) {
    NftKernelChain ch;
    ch.name = n;
    k.chains.push_back(ch);
  }
  auto t = NftRuleTexts{}.table_from_dump(k);
  ASSERT_TRUE(t);
  std::vector<std::string> names;
  for (const auto& ch : t->chains) names.push_back(ch.name);
  EXPECT_EQ(names, (std::vector<std::string>{"INPUT", "FORWARD", "OUTPUT", "KUBE-A", "KUBE-b", "Z6",
                                             "a6", "cali-x"}));
}

// A well-formed rule encoding that differs by `tag`: one NFTA_RULE_USERDATA attribute.
std::string userdata_blob(const std::string& tag) {
  std::string attrs(4, '\0');
  const auto len = static_cast<std::uint16_t>(4 + tag.size());
  const std::uint16_t type = NFTA_RULE_USERDATA;
  std::memcpy(attrs.data(), &len, 2);
  std::memcpy(attrs.data() + 2, &type, 2);
  attrs += tag;
  attrs.resize((attrs.size() + 3) & ~size_t{3}, '\0');
  return nft_rule_blob(attrs);
}

TEST(NftRuleTexts, MemoryIsBounded) {
  NftRuleTexts texts;
  // Many different one-rule tables learned one after another (rules that come and go over
  // weeks): the old texts are forgotten, not kept forever.
  for (int i = 0; i < 20000; ++i) {
    Table t;
    t.name = "nat";
    Chain ch;
    ch.name = "KUBE-X";
    Rule r;
    r.spec = "-m comment --comment " + std::to_string(i) + " -j RETURN";
    r.blob = userdata_blob("rule " + std::to_string(i));
    ASSERT_TRUE(nft_blob_attrs(r.blob));
    ch.rules.push_back(r);
    t.chains.push_back(ch);
    texts.learn(t);
  }
  EXPECT_LE(texts.size(), 4096u + 4 + 1);
  // What was learned last is still known.
  NftKernelTable k;
  k.name = "nat";
  k.exists = true;
  NftKernelChain ch;
  ch.name = "KUBE-X";
  NftKernelRule kr;
  kr.attrs = std::string(*nft_blob_attrs(userdata_blob("rule 19999")));
  ch.rules.push_back(kr);
  k.chains.push_back(ch);
  auto t = texts.table_from_dump(k);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->find("KUBE-X")->rules.at(0).spec, "-m comment --comment 19999 -j RETURN");
}

}  // namespace
}  // namespace ng::netfilter
