#include "netfilter/nft/nft_rule_texts.h"

#include <algorithm>
#include <functional>

namespace ng::netfilter {

namespace {

constexpr int kNfDrop = 0;
constexpr int kNfAccept = 1;

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace

NftRuleTexts::Digest NftRuleTexts::digest(std::string_view attrs) {
  return Digest{std::hash<std::string_view>{}(attrs), fnv1a(attrs)};
}

void NftRuleTexts::learn(const Table& paired) {
  const size_t rules = paired.rule_count();
  if (texts_.size() > 4 * rules + 4096) texts_.clear();
  for (const auto& c : paired.chains) {
    for (const auto& r : c.rules) {
      auto attrs = nft_blob_attrs(r.blob);
      if (!attrs) continue;
      Rule text = r;
      text.blob.clear();
      text.counters.clear();
      texts_.insert_or_assign(digest(*attrs), std::move(text));
    }
  }
}

std::optional<Table> NftRuleTexts::table_from_dump(const NftKernelTable& kernel) const {
  Table t;
  t.name = kernel.name;
  // A table the kernel does not hold prints as its built-in chains, empty, like below.
  if (kernel.exists && kernel.flags != 0) return std::nullopt;
  const auto& builtins = builtin_chains(kernel.name);
  if (builtins.empty()) return std::nullopt;
  auto fill = [&](const NftKernelChain& kc, Chain& c) {
    c.rules.reserve(kc.rules.size());
    for (const auto& kr : kc.rules) {
      if (kr.attrs.empty()) return false;
      auto it = texts_.find(digest(kr.attrs));
      if (it == texts_.end()) return false;
      Rule r = it->second;
      r.blob = nft_rule_blob(kr.attrs);
      c.rules.push_back(std::move(r));
    }
    return true;
  };
  for (const auto& name : builtins) {
    Chain c;
    c.name = name;
    c.policy = "ACCEPT";
    c.counters = "[0:0]";
    if (const NftKernelChain* kc = kernel.find(name)) {
      if (!kc->base || (kc->policy != kNfAccept && kc->policy != kNfDrop)) return std::nullopt;
      c.policy = kc->policy == kNfDrop ? "DROP" : "ACCEPT";
      if (!fill(*kc, c)) return std::nullopt;
    }
    t.chains.push_back(std::move(c));
  }
  std::vector<const NftKernelChain*> user;
  for (const auto& kc : kernel.chains) {
    const bool builtin_name =
        std::find(builtins.begin(), builtins.end(), kc.name) != builtins.end();
    if (kc.base != builtin_name) return std::nullopt;  // not a table iptables-nft made
    if (!kc.base) user.push_back(&kc);
  }
  std::sort(user.begin(), user.end(),
            [](const NftKernelChain* x, const NftKernelChain* y) { return x->name < y->name; });
  for (const NftKernelChain* kc : user) {
    Chain c;
    c.name = kc->name;
    c.counters = "[0:0]";
    if (!fill(*kc, c)) return std::nullopt;
    t.chains.push_back(std::move(c));
  }
  return t;
}

}  // namespace ng::netfilter
