#pragma once

#include <string>
#include <vector>

#include "netfilter/rule_model.h"

namespace ng::netfilter {

// What one look at a backend found (all families and guarded tables together).
struct BackendProbe {
  BackendKind kind = BackendKind::kNft;
  bool available = false;
  bool hint = false;         // :KUBE-IPTABLES-HINT or :KUBE-KUBELET-CANARY in mangle
  size_t rules = 0;          // rules in the probed tables
  size_t guarded_rules = 0;  // of which guarded
};

struct BackendChoice {
  std::vector<BackendKind> watch;  // primary first
  std::string why;                 // for the log and the status RPC
};

// netfilter.backend = legacy | nft: that one. auto: the iptables-wrapper order kube-proxy uses
// (the kubelet's hint chains in nft mangle, then in legacy mangle, then whichever holds more
// rules, nft on a tie), plus every other available backend that already holds guarded rules, so
// a node where both backends carry rules (a CNI on legacy, kube-proxy on nft) is guarded whole.
BackendChoice choose_backends(const std::string& mode, const std::vector<BackendProbe>& probes);

// True when a mangle table dump names the kubelet's hint chains.
bool has_backend_hint(const Table& mangle);

}  // namespace ng::netfilter
