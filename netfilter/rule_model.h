#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ng::netfilter {

enum class Family { kIPv4, kIPv6 };
enum class BackendKind { kLegacy, kNft };

std::string_view to_string(Family f);       // "ipv4" | "ipv6"
std::string_view to_string(BackendKind b);  // "legacy" | "nft"
std::optional<Family> parse_family(std::string_view s);
std::optional<BackendKind> parse_backend_kind(std::string_view s);

// One rule as iptables-save prints it: `-A <chain> <spec>`. The spec text is the rule's identity
// (both backends print a canonical form). `blob` carries backend-native bytes when the backend
// can write them back verbatim (legacy: the normalised ipt_entry from libiptc); empty otherwise.
struct Rule {
  std::string spec;      // everything after "-A <chain> ", exactly as saved; may be empty
  std::string counters;  // "[pkts:bytes]" when saved with -c; empty otherwise
  std::string blob;
  // Parsed from spec.
  std::string target;  // value of -j/--jump or -g/--goto; empty when the rule has none
  bool is_goto = false;
  std::string comment;  // first --comment value, unquoted

  // Rules (and so vectors of rules) compare by spec alone: counters and blobs do not matter.
  bool operator==(const Rule& o) const { return spec == o.spec; }
};

struct Chain {
  std::string name;
  std::string policy = "-";  // ACCEPT | DROP for built-in chains; "-" for user chains
  std::string counters;      // "[pkts:bytes]" as saved
  std::vector<Rule> rules;

  bool builtin() const { return policy != "-"; }
};

// One table (nat, filter, ...) of one family on one backend, chains in saved order.
struct Table {
  std::string name;
  std::vector<Chain> chains;
  std::vector<std::string> before;  // comment lines printed before "*name" (exact round trip)
  std::vector<std::string> after;   // comment lines between COMMIT and the next table

  Chain* find(std::string_view chain);
  const Chain* find(std::string_view chain) const;
  bool has(std::string_view chain) const { return find(chain) != nullptr; }
  size_t rule_count() const;
};

// Several tables as one iptables-save run prints them.
struct SaveFile {
  std::vector<std::string> leading;  // comment lines before the first table
  std::vector<Table> tables;

  Table* find(std::string_view table);
  const Table* find(std::string_view table) const {
    return const_cast<SaveFile*>(this)->find(table);
  }
};

// Name -> index of the chain in table.chains; for algorithms that look chains up per rule.
class ChainIndex {
 public:
  explicit ChainIndex(const Table& t);
  const Chain* find(std::string_view name) const;
  std::optional<size_t> position(std::string_view name) const;

 private:
  const Table& t_;
  std::unordered_map<std::string_view, size_t> idx_;
};

// Names of targets that are not chains (extensions and verdicts). Used to tell "jump to a user
// chain" from "-j DNAT": a target is a chain jump when a chain of that name exists in the table.
bool is_verdict_target(std::string_view target);

// Built-in chains per table, in the order iptables-save prints them.
const std::vector<std::string>& builtin_chains(std::string_view table);

}  // namespace ng::netfilter
