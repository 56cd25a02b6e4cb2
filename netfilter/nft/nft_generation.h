#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <vector>

#include "netfilter/change_writer.h"

namespace ng::netfilter {

// A table of any nftables family: nfproto is the kernel's NFPROTO_* value (ip 2, inet 1,
// arp 3, netdev 5, bridge 7, ip6 10).
struct NftTableRef {
  int nfproto = 0;
  std::string name;
  auto operator<=>(const NftTableRef&) const = default;
};

// A table a transaction touched, with the message types it got (bit NFT_MSG_* set: e.g.
// NFT_MSG_DELTABLE, NFT_MSG_DELRULE, NFT_MSG_NEWSETELEM).
struct NftTouchedTable {
  NftTableRef table;
  std::uint64_t msgs = 0;
  bool got(int msg) const { return msg >= 0 && msg < 64 && (msgs >> msg) & 1u; }
};

// One committed nftables transaction as the monitor heard it: the tables its messages touched
// and the process that committed it. Bounded: a transaction touching more than kMaxTables tables
// sets truncated (treat every table as touched).
struct NftGeneration {
  static constexpr size_t kMaxTables = 256;
  ChangeWriter writer;
  std::vector<NftTouchedTable> tables;  // sorted by table, unique
  bool truncated = false;
};

}  // namespace ng::netfilter
