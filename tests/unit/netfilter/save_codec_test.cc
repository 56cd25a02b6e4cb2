#include "netfilter/save_codec.h"

#include <gtest/gtest.h>

#include "tests/unit/netfilter/test_data.h"

namespace ng::netfilter {
namespace {

class RealDumps : public ::testing::TestWithParam<std::string> {};

TEST_P(RealDumps, RoundTripIsExact) {
  const std::string text = testing::netfilter_data(GetParam());
  auto file = parse_save(text);
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_FALSE(file->tables.empty());
  EXPECT_EQ(render_save(*file), text);
}

INSTANTIATE_TEST_SUITE_P(Codec, RealDumps,
                         ::testing::Values("cni-legacy-ipv4.save", "cni-legacy-ipv6.save",
                                           "cni-nft-ipv4.save", "cni-nft-ipv6.save",
                                           "cni-legacy-ipv4-counters.save",
                                           "cni-nft-ipv4-counters.save"));

TEST(Codec, ParsesFieldsOfRealCniRules) {
  auto f = parse_save(testing::netfilter_data("cni-nft-ipv4.save"));
  ASSERT_TRUE(f.ok()) << f.error().message;
  const Table* t = f->find("nat");
  ASSERT_NE(t, nullptr);
  const Chain* dnat = t->find("CNI-HOSTPORT-DNAT");
  ASSERT_NE(dnat, nullptr);
  ASSERT_EQ(dnat->rules.size(), 1u);
  EXPECT_EQ(dnat->rules[0].target, "CNI-DN-d3965bcbc3dd2fee4b494");
  EXPECT_EQ(dnat->rules[0].comment, "dnat name: \"k8s-pod-network\" id: \"abc123def456\"");
  const Chain* pre = t->find("PREROUTING");
  ASSERT_NE(pre, nullptr);
  EXPECT_TRUE(pre->builtin());
  EXPECT_EQ(pre->policy, "ACCEPT");
  const Chain* svc = t->find("KUBE-SERVICES");
  ASSERT_NE(svc, nullptr);
  EXPECT_EQ(svc->rules[1].comment, "a \"quoted\" comment with \\ backslash");
  EXPECT_EQ(svc->rules[1].target, "RETURN");
  EXPECT_FALSE(t->find("MY-OWN")->builtin());
}

TEST(Codec, CountersOnRulesAndChains) {
  auto f = parse_save(testing::netfilter_data("cni-nft-ipv4-counters.save"));
  ASSERT_TRUE(f.ok()) << f.error().message;
  const Table* t = f->find("nat");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->find("PREROUTING")->rules[0].counters.front(), '[');
  EXPECT_EQ(t->find("PREROUTING")->rules[0].spec.rfind("-m comment", 0), 0u);
}

TEST(Codec, GotoNegationAndModules) {
  Rule r;
  r.spec = "! -s 10.0.0.0/8 -p tcp -m tcp ! --dport 22 -m comment --comment \"x y\" -g KUBE-X";
  ASSERT_TRUE(parse_rule_fields(r).ok());
  EXPECT_EQ(r.target, "KUBE-X");
  EXPECT_TRUE(r.is_goto);
  EXPECT_EQ(r.comment, "x y");
}

TEST(Codec, EmptyRuleSpecRoundTrips) {
  const std::string text = "*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD\nCOMMIT\n";
  auto f = parse_save(text);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->tables[0].chains[0].rules.size(), 1u);
  EXPECT_EQ(render_save(*f), text);
}

TEST(Codec, SplitArgsLikeRestore) {
  auto a = split_args(R"(-A X -m comment --comment "a \"b\" c" -j Y)");
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 8u);
  EXPECT_EQ((*a)[5], "a \"b\" c");
  EXPECT_FALSE(split_args("-A X --comment \"open").ok());
}

TEST(Codec, SaveQuoteMatchesIptablesSave) {
  EXPECT_EQ(save_quote("simple-Name_1"), "simple-Name_1");
  EXPECT_EQ(save_quote("two words"), "\"two words\"");
  EXPECT_EQ(save_quote("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(save_quote(""), "\"\"");
}

TEST(Codec, Base64RoundTrip) {
  for (std::string s : {std::string(), std::string("a"), std::string("ab"), std::string("abc"),
                        std::string("\0\xff\x10zz", 5)}) {
    auto d = base64_decode(base64_encode(s));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, s);
  }
  EXPECT_FALSE(base64_decode("abc").ok());
  EXPECT_FALSE(base64_decode("ab!d").ok());
}

TEST(Codec, BlobAnnotationsAttachToTheNextRule) {
  Table t;
  t.name = "nat";
  Chain c;
  c.name = "KUBE-X";
  Rule r;
  r.spec = "-j RETURN";
  r.target = "RETURN";
  r.blob = std::string("\x01\x02\x00\x03", 4);
  c.rules.push_back(r);
  t.chains.push_back(c);
  RenderOptions o;
  o.blobs = true;
  auto back = parse_table(render_table(t, o), "nat");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->chains[0].rules[0].blob, r.blob);
}

struct Malformed {
  const char* text;
  const char* why;
};

class MalformedDumps : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedDumps, RejectedWithLineAndReason) {
  auto f = parse_save(GetParam().text);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().kind, core::EnvErrorKind::kInvalidInput);
  EXPECT_NE(f.error().message.find("line "), std::string::npos) << f.error().message;
  EXPECT_NE(f.error().message.find(GetParam().why), std::string::npos) << f.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Codec, MalformedDumps,
    ::testing::Values(Malformed{"*nat\n:X - [0:0]\n-A X -m comment --comment \"open\nCOMMIT\n",
                                "unterminated quote"},
                      Malformed{"*nat\n-A NOPE -j ACCEPT\nCOMMIT\n", "undeclared chain NOPE"},
                      Malformed{"*nat\n:X - [0:0]\n", "not committed"},
                      Malformed{"-A X -j Y\n", "outside a table"},
                      Malformed{"*nat\n:X - [0:0]\n:X - [0:0]\nCOMMIT\n", "declared twice"},
                      Malformed{"*nat\n:X BOGUS [0:0]\nCOMMIT\n", "bad chain policy"},
                      Malformed{"*nat\n:X - [0:0]\n-A X -j\nCOMMIT\n", "without a target"},
                      Malformed{"*nat\n:X - [0:0]\n[1:2 -A X\nCOMMIT\n", "bad rule counters"},
                      Malformed{"*nat\n:X - [0:0]\nhello\nCOMMIT\n", "unexpected line"},
                      Malformed{"*nat\n*filter\nCOMMIT\n", "before COMMIT"},
                      Malformed{"*nat\n:X - [0:0]\n#blob !!!!\n-A X\nCOMMIT\n", "bad blob"},
                      Malformed{"*nat\n:\"a b\" - [0:0]\nCOMMIT\n", "bad chain name"}));

TEST(Codec, ParseTableOfAbsentTableIsEmpty) {
  auto t = parse_table("", "raw");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->chains.empty());
  EXPECT_EQ(t->name, "raw");
}

}  // namespace
}  // namespace ng::netfilter
