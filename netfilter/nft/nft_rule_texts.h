#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "netfilter/nft/nft_replay.h"
#include "netfilter/rule_model.h"

namespace ng::netfilter {

// What iptables-nft-save printed for each kernel rule encoding, learned from paired reads (the
// saved text and a netlink dump of the same generation, rules lined up by attach_nft_blobs).
// A later read whose every rule the kernel encodes the same way is built from the dump alone:
// at 10,000 rules that skips ~80 ms of iptables-nft-save and ~20 ms of parsing on the way to a
// repair, and again for the read-back that verifies it.
//
// Why identical encodings mean identical text: iptables-nft-save prints a rule from its
// expressions and userdata (the NEWRULE attributes kept here, counters zeroed), never from its
// handle or position, and prints the chains of an iptables-nft table in a fixed order (built-in
// chains in iptables order, those the kernel lacks too, then user chains by name). The
// integration test tests/integration/netfilter/nft_fast_test.sh compares both reads on real
// tables. Anything this cannot vouch for (a rule never paired or not replayable, table flags, a
// base chain that is not one of the table's built-ins) makes the read fall back to the tool.
class NftRuleTexts {
 public:
  // Remembers every rule of `paired` that carries an nft blob. Bounded: when the texts held
  // outgrow four times this table (plus some slack), the old ones are forgotten first.
  void learn(const Table& paired);
  // The table as iptables-nft-save would print it (without the comment lines around it and
  // with zero chain counters), every rule carrying its blob; nullopt when it cannot be told.
  std::optional<Table> table_from_dump(const NftKernelTable& kernel) const;
  size_t size() const { return texts_.size(); }

 private:
  // Two independent 64-bit hashes of the attributes: the attributes themselves would double
  // the memory a large table costs, and a 128-bit collision is not a practical concern.
  struct Digest {
    std::uint64_t a = 0, b = 0;
    bool operator==(const Digest&) const = default;
  };
  struct DigestHash {
    size_t operator()(const Digest& d) const { return static_cast<size_t>(d.a); }
  };
  static Digest digest(std::string_view attrs);

  std::unordered_map<Digest, Rule, DigestHash> texts_;  // rules kept without their blob
};

}  // namespace ng::netfilter
