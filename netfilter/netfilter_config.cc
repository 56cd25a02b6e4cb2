#include "netfilter/netfilter_config.h"

namespace ng::netfilter {

using namespace std::chrono_literals;

void bind_config(core::ConfigBinder& b, NetfilterConfig& c) {
  b.field("enabled", c.enabled,
          "Guard the iptables chains of the CNI plugins, kube-proxy and Calico.");
  b.field("backend", c.backend,
          "Which iptables backend to guard: auto (detect like kube-proxy's iptables-wrapper, and "
          "watch both when both hold rules), legacy or nft.",
          core::one_of({"auto", "legacy", "nft"}));
  b.field("families", c.families, "IP families to guard: ipv4, ipv6.",
          core::one_of({"ipv4", "ipv6"}));
  b.field("guard", c.guard,
          "Chain-name patterns guarded per table (nat, filter, mangle, raw). A trailing '*' "
          "matches any suffix. Jumps from the built-in chains into guarded chains are guarded too. "
          "Other owners' canaries (KUBE-PROXY-CANARY, KUBE-KUBELET-CANARY) are never restored.",
          core::not_empty());
  b.field("poll_interval", c.poll_interval,
          "Legacy backend: how often the cheap change check runs (it copies no rules).",
          core::duration_range(1ms, 10s));
  b.field("verify_interval", c.verify_interval,
          "How often a full read verifies the guarded rules even without a change signal.",
          core::duration_range(100ms, 1h));
  b.field("restore_policies", c.restore_policies,
          "Restore a built-in chain policy flipped to DROP (otherwise only reported).");
}

}  // namespace ng::netfilter
