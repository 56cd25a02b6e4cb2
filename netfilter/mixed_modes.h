#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/health_sink.h"
#include "netfilter/rule_model.h"

namespace ng::netfilter {

// Mixed firewall modes on one node (issue 19, item 4): each is reported as a node condition
// whose message says the fix. Pure: the guard gathers the input on a worker (every table of
// both iptables backends, and the native nftables tables that exist) and sets the conditions
// on the loop.

// One iptables table as one backend holds it.
struct TableHolding {
  BackendKind backend = BackendKind::kNft;
  Family family = Family::kIPv4;
  std::string table;
  size_t rules = 0;          // rules in any chain; the agent's own canary chain not counted
  size_t user_chains = 0;    // chains that are not built-in; the canary not counted
  size_t calico_chains = 0;  // cali-* chains (Calico's iptables dataplane)
  // nft: iptables-nft-save's own words when it cannot print the table (native nftables
  // chains or rules in it); empty when it can.
  std::string incompatible;
  bool holds_rules() const { return rules > 0 || user_chains > 0; }
  std::string str() const;  // "legacy/ipv4/nat"
};

struct MixedModeInput {
  std::vector<TableHolding> tables;
  // Native nftables tables that exist, "FAMILY NAME" as nft prints them ("ip kube-proxy").
  std::vector<std::string> native_tables;
  bool native_tables_known = false;  // false: nft could not list them (check (c) skipped)
};

// Condition types (stable; docs/operations.md, "Mixed firewall modes").
inline constexpr char kIptablesBackendsMixed[] = "IptablesBackendsMixed";
inline constexpr char kIptablesNftIncompatible[] = "IptablesNftIncompatible";
inline constexpr char kKubeProxyNftablesCalicoIptables[] = "KubeProxyNftablesCalicoIptables";

// Always the three conditions, in this order, active or not.
std::vector<core::ConditionReport> assess_mixed_modes(const MixedModeInput& in);

// What a read of one table says for the checks above.
TableHolding summarize_table(BackendKind backend, Family family, const Table& table);

// iptables-nft-save's comment for a table it cannot print whole, empty when there is none:
// "Table `nat' is incompatible, use 'nft' tool." (nothing of the table follows: it must not be
// read as an empty table) or "Table `nat' contains incompatible base-chains, use 'nft' tool to
// list them." (the iptables chains follow; the native base chain is left out).
std::string incompatible_note(std::string_view save_text);
// The first kind only: the text holds no usable picture of the table.
bool save_unusable(std::string_view save_text);

// "ip kube-proxy" lines from `nft list tables` ("table ip kube-proxy").
std::vector<std::string> parse_nft_table_list(std::string_view text);

}  // namespace ng::netfilter
