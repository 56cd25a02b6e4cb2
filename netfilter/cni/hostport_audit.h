#pragma once

#include <string>
#include <vector>

#include "netfilter/cni/portmap_rules.h"

namespace ng::netfilter::cni {

// One container chain whose rules (or entry jumps) the table lacks.
struct MissingChain {
  std::string chain;  // CNI-DN-...
  std::string network;
  std::string container_id;
  size_t rules = 0;  // its chain rules plus its CNI-HOSTPORT-DNAT jumps that are missing
};

// The cache's hostPort rules for one family held against the guard's snapshot of the nat table
// they belong in (what is live plus what the guard is restoring anyway).
struct HostportAudit {
  // What to hand the guard: portmap's chains for the containers that can be rebuilt.
  std::vector<ExpectedChain> contributions;
  size_t expected_rules = 0;  // rules in contributions
  size_t missing_rules = 0;   // of which the table lacks
  std::vector<MissingChain> missing;
  // Container chains present with other rules than the cache implies (another portmap release,
  // a hand edit): left alone, never rewritten.
  std::vector<std::string> mismatched;
  // Container chains whose rules jump to a chain that is not there (externalSetMarkChain, e.g.
  // KUBE-MARK-MASQ before kube-proxy recreated it): "<chain> -> <missing chain>". Writing them
  // would fail the whole commit, so they wait.
  std::vector<std::string> waiting;
};

// Pure: replays the ADDs, leaves out the containers whose chain differs from the cache or whose
// jump target is absent, and counts what `table` lacks.
HostportAudit audit_hostports(const std::vector<PortmapInvocation>& adds, Family family,
                              const Table& table);

}  // namespace ng::netfilter::cni
