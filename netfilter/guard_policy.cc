#include "netfilter/guard_policy.h"

namespace ng::netfilter {

bool glob_match(std::string_view p, std::string_view s) {
  size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (pi < p.size() && p[pi] == s[si]) {
      ++pi;
      ++si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

GuardPolicy::GuardPolicy(std::map<std::string, std::vector<std::string>> patterns,
                         std::vector<std::string> write_once)
    : patterns_(std::move(patterns)), write_once_(std::move(write_once)) {}

std::vector<std::string> GuardPolicy::tables() const {
  std::vector<std::string> out;
  for (const auto& [t, _] : patterns_) out.push_back(t);
  return out;
}

bool GuardPolicy::is_foreign_canary(std::string_view chain) {
  return chain == "KUBE-PROXY-CANARY" || chain == "KUBE-KUBELET-CANARY";
}

bool GuardPolicy::is_guarded_chain(std::string_view table, std::string_view chain) const {
  if (chain == kCanary || is_foreign_canary(chain)) return false;
  auto it = patterns_.find(std::string(table));
  if (it == patterns_.end()) return false;
  for (const auto& builtin : builtin_chains(table)) {
    if (builtin == chain) return false;
  }
  for (const auto& p : it->second) {
    if (glob_match(p, chain)) return true;
  }
  return false;
}

bool GuardPolicy::is_write_once(std::string_view chain) const {
  for (const auto& p : write_once_) {
    if (glob_match(p, chain)) return true;
  }
  return false;
}

bool GuardPolicy::is_guarded_jump(std::string_view table, const Rule& r) const {
  return !r.target.empty() && is_guarded_chain(table, r.target);
}

Table GuardPolicy::project(const Table& full) const {
  Table out;
  out.name = full.name;
  for (const auto& c : full.chains) {
    if (c.builtin() || c.name == kCanary || is_guarded_chain(full.name, c.name)) {
      out.chains.push_back(c);
    }
  }
  for (auto& c : out.chains) {
    for (auto& r : c.rules) r.counters.clear();
    c.counters.clear();
  }
  return out;
}

size_t GuardPolicy::guarded_rule_count(const Table& t) const {
  size_t n = 0;
  for (const auto& c : t.chains) {
    if (c.builtin()) {
      for (const auto& r : c.rules) n += is_guarded_jump(t.name, r);
    } else if (is_guarded_chain(t.name, c.name)) {
      n += c.rules.size();
    }
  }
  return n;
}

size_t GuardPolicy::guarded_chain_count(const Table& t) const {
  size_t n = 0;
  for (const auto& c : t.chains) n += !c.builtin() && is_guarded_chain(t.name, c.name);
  return n;
}

}  // namespace ng::netfilter
