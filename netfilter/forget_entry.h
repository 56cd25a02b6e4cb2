#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "netfilter/rule_model.h"

namespace ng::netfilter {

// What an operator asked the guard to forget (ngctl forget): a chain with every jump into it,
// or one rule of a chain.
struct ForgetEntry {
  std::string chain;
  std::string rule;  // the spec after "-A CHAIN"; empty: the whole chain
  bool operator==(const ForgetEntry&) const = default;
};

// The rule argument as an operator pastes it: "-A CHAIN spec" or just the spec; surrounding
// blanks dropped.
std::string rule_spec_argument(std::string_view chain, std::string_view rule);

// Removes the entry from a snapshot: the chain (a user chain) and every rule jumping to it, or
// every copy of the rule. Returns what left, as ":CHAIN" and "-A CHAIN spec" lines; empty when
// the snapshot held none of it.
std::vector<std::string> forget_in(Table& snapshot, const ForgetEntry& e);

// Whether a table still holds the entry (the chain exists / the rule is in its chain).
bool entry_present(const Table& t, const ForgetEntry& e);

}  // namespace ng::netfilter
