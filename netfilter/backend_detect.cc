#include "netfilter/backend_detect.h"

#include <algorithm>

namespace ng::netfilter {

bool has_backend_hint(const Table& mangle) {
  return mangle.has("KUBE-IPTABLES-HINT") || mangle.has("KUBE-KUBELET-CANARY");
}

BackendChoice choose_backends(const std::string& mode, const std::vector<BackendProbe>& probes) {
  BackendChoice c;
  if (mode == "legacy" || mode == "nft") {
    c.watch.push_back(*parse_backend_kind(mode));
    c.why = "netfilter.backend is " + mode;
    return c;
  }
  auto find = [&](BackendKind k) -> const BackendProbe* {
    for (const auto& p : probes) {
      if (p.kind == k && p.available) return &p;
    }
    return nullptr;
  };
  const BackendProbe* nft = find(BackendKind::kNft);
  const BackendProbe* legacy = find(BackendKind::kLegacy);
  BackendKind primary = BackendKind::kNft;
  if (nft && nft->hint) {
    c.why = "kubelet hint chain in nft mangle";
  } else if (legacy && legacy->hint) {
    primary = BackendKind::kLegacy;
    c.why = "kubelet hint chain in legacy mangle";
  } else if (legacy && (!nft || legacy->rules > nft->rules)) {
    primary = BackendKind::kLegacy;
    c.why = nft ? "legacy holds more rules (" + std::to_string(legacy->rules) + " vs " +
                      std::to_string(nft->rules) + ")"
                : "only legacy is available";
  } else if (nft) {
    c.why = legacy ? "nft holds at least as many rules" : "only nft is available";
  } else {
    c.why = "no backend available";
    return c;
  }
  c.watch.push_back(primary);
  for (const auto* p : {nft, legacy}) {
    if (p && p->kind != primary && p->guarded_rules > 0) {
      c.watch.push_back(p->kind);
      c.why += "; " + std::string(to_string(p->kind)) + " also holds " +
               std::to_string(p->guarded_rules) + " guarded rules";
    }
  }
  return c;
}

}  // namespace ng::netfilter
