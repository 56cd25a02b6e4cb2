#include "netfilter/writer_label.h"

#include <gtest/gtest.h>

namespace ng::netfilter {
namespace {

TEST(WriterLabels, AllowListedNamesAsTheKernelCutsThem) {
  WriterLabels l(0);
  // Seen on this machine under `nft monitor`: the comm is the name the tool was run as, cut
  // to 15 characters.
  for (const char* c : {"nft", "iptables-nft", "iptables-nft-re", "iptables-restor",
                        "ip6tables-nft-r", "xtables-nft-mul", "firewalld", "kube-proxy",
                        "calico-node", "portmap", "nodeguard", "ansible"}) {
    EXPECT_EQ(l.label(c), c);
  }
  EXPECT_EQ(l.learned(), 0u);
}

TEST(WriterLabels, UnknownWhenNoWriter) {
  WriterLabels l;
  EXPECT_EQ(l.label(std::optional<ChangeWriter>{}), "unknown");
  EXPECT_EQ(l.label(std::optional<ChangeWriter>(ChangeWriter{})), "unknown");
  EXPECT_EQ(l.label(""), "unknown");
  // A pid without a name is a writer we cannot name.
  EXPECT_EQ(l.label(std::optional<ChangeWriter>(ChangeWriter{3, 42, "", "", ""})), "other");
  EXPECT_EQ(l.label(std::optional<ChangeWriter>(ChangeWriter{3, 42, "nft", "", ""})), "nft");
}

TEST(WriterLabels, LearnsUpToTheCapThenOther) {
  WriterLabels l(2);
  EXPECT_EQ(l.label("my-script"), "my-script");
  EXPECT_EQ(l.label("python3"), "python3");
  EXPECT_EQ(l.label("perl"), "other");
  EXPECT_EQ(l.label("my-script"), "my-script");  // learned names stay
  EXPECT_EQ(l.label("nft"), "nft");              // the allow-list never runs out
  EXPECT_EQ(l.learned(), 2u);
}

TEST(WriterLabels, BoundedAndSanitized) {
  WriterLabels l;
  EXPECT_EQ(l.label("a name with spaces and more"), "a_name_with_spa");
  EXPECT_EQ(l.label("kworker/0:1"), "kworker_0_1");
  EXPECT_EQ(l.label("\xff\"{}"), "____");
  // Names that would read as the policy's own values.
  EXPECT_EQ(l.label("unknown"), "other");
  EXPECT_EQ(l.label("other"), "other");
  WriterLabels many;
  std::set<std::string> values;
  for (int i = 0; i < 1000; ++i) values.insert(many.label("proc" + std::to_string(i)));
  EXPECT_EQ(values.size(), WriterLabels::kDefaultLearned + 1);  // learned names and "other"
}

}  // namespace
}  // namespace ng::netfilter
