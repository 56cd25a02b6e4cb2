#include "netfilter/forget_entry.h"

#include <algorithm>

#include "core/strings.h"
#include "netfilter/save_codec.h"

namespace ng::netfilter {

namespace {
using core::trim;
}  // namespace

std::string rule_spec_argument(std::string_view chain, std::string_view rule) {
  rule = trim(rule);
  const std::string head = "-A " + std::string(chain);
  if (rule == head) return "";
  if (rule.substr(0, head.size() + 1) == head + " ") rule.remove_prefix(head.size() + 1);
  return std::string(trim(rule));
}

std::vector<std::string> forget_in(Table& snapshot, const ForgetEntry& e) {
  std::vector<std::string> removed;
  if (!e.rule.empty()) {
    Chain* c = snapshot.find(e.chain);
    if (!c) return removed;
    std::erase_if(c->rules, [&](const Rule& r) {
      if (r.spec != e.rule) return false;
      removed.push_back(render_rule(c->name, r));
      return true;
    });
    return removed;
  }
  auto it = std::find_if(snapshot.chains.begin(), snapshot.chains.end(),
                         [&](const Chain& c) { return c.name == e.chain; });
  if (it == snapshot.chains.end() || it->builtin()) return removed;
  removed.push_back(":" + e.chain);
  snapshot.chains.erase(it);
  for (auto& c : snapshot.chains) {
    std::erase_if(c.rules, [&](const Rule& r) {
      if (r.target != e.chain) return false;
      removed.push_back(render_rule(c.name, r));
      return true;
    });
  }
  return removed;
}

bool entry_present(const Table& t, const ForgetEntry& e) {
  const Chain* c = t.find(e.chain);
  if (!c || e.rule.empty()) return c != nullptr;
  return std::any_of(c->rules.begin(), c->rules.end(),
                     [&](const Rule& r) { return r.spec == e.rule; });
}

}  // namespace ng::netfilter
