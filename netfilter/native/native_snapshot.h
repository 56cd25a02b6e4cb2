#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netfilter/nft/nft_generation.h"

namespace ng::netfilter::native {

// Message kinds of a native table, in the order a restore creates them (NGNFT_T_* in
// netfilter/nft/nft_table_wire.h).
enum class NativeKind : int {
  kTable = 0,
  kChain = 1,
  kObject = 2,
  kFlowtable = 3,
  kSet = 4,
  kElements = 5,
  kRule = 6,
};

// One message of the table as the kernel holds it: its attributes, re-sendable as they are.
struct NativeMsg {
  NativeKind kind = NativeKind::kTable;
  std::string attrs;
  bool operator==(const NativeMsg&) const = default;
};

struct NativeCounts {
  std::size_t chains = 0;
  std::size_t base_chains = 0;
  std::size_t rules = 0;
  std::size_t base_rules = 0;  // rules in base chains: what traffic meets first
  std::size_t sets = 0;
  std::size_t elements = 0;
  std::size_t objects = 0;
  std::size_t flowtables = 0;
  bool operator==(const NativeCounts&) const = default;
};

// A whole table: every message a restore sends, at the generation the dump was consistent with.
struct NativeTableSnapshot {
  NftTableRef table;
  std::uint32_t genid = 0;
  std::vector<NativeMsg> msgs;
  NativeCounts counts;
  // Indices into msgs in the order the restore sends them (nft_restore_order.h), worked out
  // when the table is read, off the repair's path (8 ms at 1,000 services). Empty: dump order.
  std::vector<std::size_t> restore_order;
};

// What a dump found: the table, or nothing (absent) at genid.
struct NativeDump {
  std::optional<NativeTableSnapshot> table;
  std::uint32_t genid = 0;
};

// Counts of a message list (pure; malformed messages count as nothing).
NativeCounts count_native(const std::vector<NativeMsg>& msgs);

// The same table, ignoring what traffic and the kernel change (counter and quota values,
// element order inside a set). Pure.
bool same_native_table(const NativeTableSnapshot& a, const NativeTableSnapshot& b);

// "ip", "ip6", "inet", "arp", "bridge", "netdev" <-> NFPROTO_*.
std::optional<int> nfproto_from_name(std::string_view family);
std::string_view nfproto_name(int nfproto);
// "ip kube-proxy": how docs, logs, metrics and ngctl name a native table.
std::string native_table_id(const NftTableRef& t);

}  // namespace ng::netfilter::native
