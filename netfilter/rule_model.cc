#include "netfilter/rule_model.h"

#include <map>

namespace ng::netfilter {

std::string_view to_string(Family f) {
  return f == Family::kIPv4 ? "ipv4" : "ipv6";
}
std::string_view to_string(BackendKind b) {
  return b == BackendKind::kLegacy ? "legacy" : "nft";
}

std::optional<Family> parse_family(std::string_view s) {
  if (s == "ipv4" || s == "4" || s == "inet") return Family::kIPv4;
  if (s == "ipv6" || s == "6" || s == "inet6") return Family::kIPv6;
  return std::nullopt;
}

std::optional<BackendKind> parse_backend_kind(std::string_view s) {
  if (s == "legacy") return BackendKind::kLegacy;
  if (s == "nft") return BackendKind::kNft;
  return std::nullopt;
}

Chain* Table::find(std::string_view chain) {
  for (auto& c : chains) {
    if (c.name == chain) return &c;
  }
  return nullptr;
}

const Chain* Table::find(std::string_view chain) const {
  return const_cast<Table*>(this)->find(chain);
}

size_t Table::rule_count() const {
  size_t n = 0;
  for (const auto& c : chains) n += c.rules.size();
  return n;
}

Table* SaveFile::find(std::string_view table) {
  for (auto& t : tables) {
    if (t.name == table) return &t;
  }
  return nullptr;
}

ChainIndex::ChainIndex(const Table& t) : t_(t) {
  idx_.reserve(t.chains.size());
  for (size_t i = 0; i < t.chains.size(); ++i) idx_.emplace(t.chains[i].name, i);
}

const Chain* ChainIndex::find(std::string_view name) const {
  auto it = idx_.find(name);
  return it == idx_.end() ? nullptr : &t_.chains[it->second];
}

std::optional<size_t> ChainIndex::position(std::string_view name) const {
  auto it = idx_.find(name);
  if (it == idx_.end()) return std::nullopt;
  return it->second;
}

bool is_verdict_target(std::string_view target) {
  return target == "ACCEPT" || target == "DROP" || target == "RETURN" || target == "QUEUE" ||
         target == "NFQUEUE" || target == "REJECT";
}

const std::vector<std::string>& builtin_chains(std::string_view table) {
  static const std::map<std::string, std::vector<std::string>, std::less<>> kBuiltins = {
      {"filter", {"INPUT", "FORWARD", "OUTPUT"}},
      {"nat", {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"}},
      {"mangle", {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}},
      {"raw", {"PREROUTING", "OUTPUT"}},
      {"security", {"INPUT", "FORWARD", "OUTPUT"}},
  };
  static const std::vector<std::string> kNone;
  auto it = kBuiltins.find(table);
  return it == kBuiltins.end() ? kNone : it->second;
}

}  // namespace ng::netfilter
