#include "netfilter/mixed_modes.h"

#include <algorithm>

#include "core/strings.h"

namespace ng::netfilter {

namespace {

constexpr std::string_view kCanary = "NODEGUARD-CANARY";  // GuardPolicy::kCanary (no guard dep)
constexpr size_t kMaxListed = 6;

bool has(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

core::ConditionReport inactive(const char* type) {
  return core::ConditionReport{type, false, "", "", core::Severity::kWarning};
}

// (a) Both backends hold rules: packets go through both sets of hooks, and each tool shows
// only half of the firewall.
core::ConditionReport backends_mixed(const MixedModeInput& in) {
  std::vector<std::string> legacy, nft;
  for (const auto& t : in.tables) {
    if (!t.holds_rules()) continue;
    (t.backend == BackendKind::kLegacy ? legacy : nft).push_back(t.str());
  }
  if (legacy.empty() || nft.empty()) return inactive(kIptablesBackendsMixed);
  return core::ConditionReport{
      kIptablesBackendsMixed, true, "LegacyAndNftBothHoldRules",
      "iptables-legacy holds rules in " + core::join(legacy, ", ", kMaxListed) +
          " and iptables-nft in " + core::join(nft, ", ", kMaxListed) +
          ": both run on every packet and each tool shows half of the firewall. Fix: make every "
          "writer (kube-proxy, the CNI plugins, Calico, the node's own firewall) use one "
          "backend (update-alternatives --set iptables /usr/sbin/iptables-nft, the same image "
          "tooling for the pods; kube-proxy's iptables-wrapper picks the backend that holds "
          "its canary), then flush the other one (iptables-legacy-save shows what is left).",
      core::Severity::kWarning};
}

// (b) Native nftables chains or rules inside tables iptables-nft manages.
core::ConditionReport nft_incompatible(const MixedModeInput& in) {
  std::vector<std::string> bad;
  for (const auto& t : in.tables) {
    if (!t.incompatible.empty()) bad.push_back(t.str() + " (" + t.incompatible + ")");
  }
  if (bad.empty()) return inactive(kIptablesNftIncompatible);
  return core::ConditionReport{
      kIptablesNftIncompatible, true, "NativeRulesInIptablesTable",
      "iptables-nft-save cannot print " + core::join(bad, ", ", kMaxListed) +
          ": native nftables chains or rules were added to a table iptables-nft manages, so "
          "iptables tools (kube-proxy, Calico, the CNI plugins) misread it and nodeguard guards "
          "only what iptables-nft-save can print; a table it cannot print at all is not "
          "guarded. Fix: move the native rules into a table of their own (`nft list table ip "
          "nat` shows them; `nft delete rule ip nat CHAIN handle N` removes one).",
      core::Severity::kWarning};
}

// (c) calico#8025: Felix in iptables mode next to kube-proxy in nftables mode.
core::ConditionReport kube_proxy_calico(const MixedModeInput& in) {
  std::vector<std::string> kp, cali;
  for (const auto& n : in.native_tables) {
    if (n == "ip kube-proxy" || n == "ip6 kube-proxy") kp.push_back(n);
  }
  for (const auto& t : in.tables) {
    if (t.calico_chains > 0) cali.push_back(t.str());
  }
  if (!in.native_tables_known || kp.empty() || cali.empty()) {
    auto r = inactive(kKubeProxyNftablesCalicoIptables);
    r.severity = core::Severity::kError;
    return r;
  }
  return core::ConditionReport{
      kKubeProxyNftablesCalicoIptables, true, "CalicoIptablesWithKubeProxyNftables",
      "kube-proxy runs in nftables mode (table " + core::join(kp, ", ") +
          ") while Calico programs iptables (cali-* chains in " +
          core::join(cali, ", ", kMaxListed) +
          "): Calico's iptables dataplane does not support it and Felix fails (calico#8025). "
          "Fix: switch Calico to its nftables dataplane (Installation "
          "spec.calicoNetwork.linuxDataplane: Nftables, Calico 3.29 or later), or run "
          "kube-proxy in iptables mode (KubeProxyConfiguration mode: iptables).",
      core::Severity::kError};
}

}  // namespace

std::string TableHolding::str() const {
  return std::string(to_string(backend)) + "/" + std::string(to_string(family)) + "/" + table;
}

std::vector<core::ConditionReport> assess_mixed_modes(const MixedModeInput& in) {
  return {backends_mixed(in), nft_incompatible(in), kube_proxy_calico(in)};
}

TableHolding summarize_table(BackendKind backend, Family family, const Table& table) {
  TableHolding h;
  h.backend = backend;
  h.family = family;
  h.table = table.name;
  // iptables-nft-save's "contains incompatible base-chains" comment, kept before the table.
  for (const auto& l : table.before) {
    if (h.incompatible = incompatible_note(l); !h.incompatible.empty()) break;
  }
  for (const auto& c : table.chains) {
    if (c.name == kCanary) continue;
    h.rules += c.rules.size();
    if (!c.builtin()) ++h.user_chains;
    if (c.name.rfind("cali-", 0) == 0) ++h.calico_chains;
  }
  return h;
}

std::string incompatible_note(std::string_view text) {
  for (size_t n = 0; !text.empty() && n < 64; ++n) {
    const auto nl = text.find('\n');
    auto line = core::trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.substr(0, 1) != "#") continue;
    if (line.find("incompatible") == std::string_view::npos) continue;
    line.remove_prefix(1);
    return std::string(core::trim(line).substr(0, 200));
  }
  return {};
}

bool save_unusable(std::string_view text) {
  const auto note = incompatible_note(text);
  return !note.empty() && note.find("is incompatible") != std::string::npos;
}

std::vector<std::string> parse_nft_table_list(std::string_view text) {
  std::vector<std::string> out;
  for (size_t n = 0; !text.empty() && n < 4096; ++n) {
    const auto nl = text.find('\n');
    auto line = core::trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.substr(0, 6) != "table ") continue;
    line.remove_prefix(6);
    const auto sp = line.find(' ');
    if (sp == std::string_view::npos) continue;
    const auto family = line.substr(0, sp);
    const auto name = core::trim(line.substr(sp + 1));
    if (name.empty() || name.size() > 256 || name.find(' ') != std::string_view::npos) continue;
    std::string entry = std::string(family) + " " + std::string(name);
    if (!has(out, entry)) out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace ng::netfilter
