#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/config_binder.h"
#include "netfilter/native/native_config.h"

namespace ng::netfilter {

struct NetfilterConfig {
  bool enabled = true;
  std::string backend = "auto";  // auto | legacy | nft
  std::vector<std::string> families = {"ipv4", "ipv6"};
  // Chain-name patterns guarded per table; '*' matches any suffix.
  std::map<std::string, std::vector<std::string>> guard = {
      {"nat", {"CNI-HOSTPORT-*", "CNI-DN-*", "CNI-*", "KUBE-*", "cali-*"}},
      {"filter", {"CNI-*", "KUBE-*", "cali-*"}},
      {"mangle", {"KUBE-*", "cali-*"}},
      {"raw", {"cali-*"}},
  };
  // Chains their owners write whole and never edit in place: a rule missing from one is drift.
  std::vector<std::string> write_once = {"CNI-*"};
  // 20 ms: legacy drift seen within ~16 ms (p99) for about the idle CPU the 100 ms worker-hop
  // poll cost (docs/benchmarks.md, "Legacy detection").
  core::Millis poll_interval{20};
  core::Millis verify_interval{60000};
  core::Millis lock_timeout{5000};
  core::Millis drift_grace{1000};
  bool restore_policies = false;
  // nft: write repairs as one netlink batch replaying the kernel's own rule encoding (falls
  // back to iptables-nft-restore); false: always iptables-nft-restore.
  bool nft_fast_path = true;
  // Older than this (since last confirmed against the table), a snapshot is trusted less: the
  // entries of CNI pods are restored from it only when the CNI cache vouches for the pod.
  core::Millis snapshot_max_age{15 * 60 * 1000};
  // Native nftables tables guarded whole (netfilter/native/, docs/nftables.md).
  native::NativeTablesConfig native;
  // The host's /proc as the agent sees it: the writer of an nftables generation (a pid of the
  // host's pid namespace) is looked up in <proc_root>/<pid>/cgroup. Empty: pid and name only.
  std::string proc_root = "/proc";
};

void bind_config(core::ConfigBinder& b, NetfilterConfig& c);

}  // namespace ng::netfilter
