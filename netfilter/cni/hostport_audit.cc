#include "netfilter/cni/hostport_audit.h"

#include <map>
#include <set>
#include <unordered_map>

namespace ng::netfilter::cni {

HostportAudit audit_hostports(const std::vector<PortmapInvocation>& adds, Family family,
                              const Table& table) {
  HostportAudit out;
  const PortmapTable full = replay_portmap(adds, family);
  std::set<std::string> excluded;
  for (const auto& d : full.dnat_chains) {
    if (const Chain* live = table.find(d.chain); live && live->rules != d.rules) {
      out.mismatched.push_back(d.chain);
      excluded.insert(d.chain);
      continue;
    }
    for (const auto& ext : d.external_chains) {
      if (!table.has(ext)) {
        out.waiting.push_back(d.chain + " -> " + ext);
        excluded.insert(d.chain);
      }
    }
  }
  std::vector<PortmapInvocation> kept;
  for (const auto& a : adds) {
    if (!excluded.count(dnat_chain_name(a.network, a.container_id))) kept.push_back(a);
  }
  PortmapTable rebuilt = replay_portmap(kept, family);
  std::map<std::string, size_t> missing_by_chain;
  for (const auto& ec : rebuilt.chains) {
    const Chain* live = table.find(ec.chain.name);
    std::unordered_map<std::string_view, int> have;
    if (live) {
      for (const auto& r : live->rules) ++have[r.spec];
    }
    for (const auto& r : ec.chain.rules) {
      ++out.expected_rules;
      if (have[r.spec]-- > 0) continue;
      ++out.missing_rules;
      if (ec.chain.name.rfind(kDnatChainPrefix, 0) == 0) {
        ++missing_by_chain[ec.chain.name];
      } else if (ec.chain.name == kHostportDnat) {
        ++missing_by_chain[r.target];
      }
    }
  }
  for (const auto& d : rebuilt.dnat_chains) {
    auto it = missing_by_chain.find(d.chain);
    if (it == missing_by_chain.end()) continue;
    out.missing.push_back({d.chain, d.network, d.container_id, it->second});
  }
  out.contributions = std::move(rebuilt.chains);
  return out;
}

}  // namespace ng::netfilter::cni
