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
  b.field("write_once", c.write_once,
          "Guarded chains their owners write whole and never edit in place (the CNI plugins' "
          "chains): a rule missing from one that still exists is drift. Rule changes in other "
          "guarded chains (KUBE-*, cali-*) are their owners' rewrites and update the snapshot.",
          core::not_empty());
  b.field("poll_interval", c.poll_interval,
          "How often the cheap change check runs for legacy tables (IPT_SO_GET_INFO on the "
          "agent's loop, about a microsecond, copies no rules; the full change token with the "
          "content hash once a second), and for nft tables when netlink notifications are "
          "unavailable.",
          core::duration_range(1ms, 10s));
  b.field("verify_interval", c.verify_interval,
          "How often every guarded table is verified without a change signal (the read is "
          "skipped when the table's change token did not move: nft's ruleset generation, "
          "legacy's IPT_SO_GET_INFO and content hash).",
          core::duration_range(100ms, 1h));
  b.field("drift_grace", c.drift_grace,
          "How long a partial change (rules or chains missing, not a flush) must persist before "
          "it is repaired. The CNI plugins delete a pod's chains in steps that look like drift "
          "halfway; flushes are repaired at once.",
          core::duration_range(0ms, 60s));
  b.field("lock_timeout", c.lock_timeout,
          "How long a repair waits for the xtables lock (/run/xtables.lock, or XTABLES_LOCKFILE) "
          "before giving up and retrying later.",
          core::duration_range(10ms, 60s));
  b.field("restore_policies", c.restore_policies,
          "Restore a built-in chain policy flipped to DROP (otherwise only reported).");
  b.field("nft_fast_path", c.nft_fast_path,
          "nft: write repairs as one netlink batch that replays the kernel's own encoding of the "
          "saved rules (no iptables-nft-restore exec, no parsing and translating of every rule). "
          "Whatever the batch cannot express, or a batch the kernel refuses or that "
          "does not read back identical, goes through iptables-nft-restore in the same repair. "
          "false: always iptables-nft-restore.");
  b.field("snapshot_max_age", c.snapshot_max_age,
          "A snapshot of the guarded chains older than this (since it was last confirmed against "
          "the table; an agent that was down longer, or a file of unknown age) is trusted less: "
          "the chains and rules of a CNI pod are restored from it only when the CNI cache holds "
          "a live entry for the pod. A fresh snapshot also keeps pods whose sandbox cannot be "
          "checked. Pods the cache says are gone are never restored, whatever the age.",
          core::duration_range(10s, 168h));
  native::bind_native_config(b, c.native);
  b.field("proc_root", c.proc_root,
          "The host's /proc as the agent sees it. The process that committed an nftables change "
          "(its pid, a pid of the host's pid namespace) is mapped to its systemd unit or "
          "container through <proc_root>/<pid>/cgroup. In a pod without hostPID, mount the "
          "host's /proc read-only (the DaemonSet uses /host/proc). Empty: the writer is named "
          "by pid and process name only.");
}

}  // namespace ng::netfilter
