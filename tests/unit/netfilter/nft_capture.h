#pragma once

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "netfilter/nft/nft_replay.h"
#include "netfilter/save_codec.h"
#include "tests/unit/netfilter/test_data.h"

namespace ng::testing {

// The netlink dump replies captured from the real kernel (data/nft-<family>-<table>.hex, one
// hex line per recv buffer; made by data/capture-nft-dump.sh).
inline std::vector<std::string> nft_hex_replies(const std::string& file) {
  std::vector<std::string> out;
  std::istringstream in(netfilter_data(file));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::string bytes;
    for (size_t i = 0; i + 1 < line.size(); i += 2) {
      bytes.push_back(static_cast<char>(std::stoi(line.substr(i, 2), nullptr, 16)));
    }
    out.push_back(std::move(bytes));
  }
  return out;
}

// One captured table: the text iptables-nft-save printed (with the kernel's encodings
// attached) and the kernel's dump of the same generation.
struct NftCapture {
  netfilter::Table text;
  netfilter::NftKernelTable kernel;
  std::vector<std::string> replies;
};

inline NftCapture nft_capture(const std::string& family, const std::string& table) {
  NftCapture c;
  auto t = netfilter::parse_table(netfilter_data("nft-" + family + "-" + table + ".save"), table);
  EXPECT_TRUE(t.ok());
  c.text = *t;
  c.replies = nft_hex_replies("nft-" + family + "-" + table + ".hex");
  c.kernel = netfilter::parse_nft_dump(c.replies, *netfilter::parse_family(family), table);
  netfilter::attach_nft_blobs(c.text, c.kernel);
  return c;
}

}  // namespace ng::testing
