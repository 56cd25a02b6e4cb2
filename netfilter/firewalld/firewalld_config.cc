#include "netfilter/firewalld/firewalld_config.h"

#include "netfilter/firewalld/conflict_rules.h"

namespace ng::netfilter::firewalld {

using namespace std::chrono_literals;

void bind_config(core::ConfigBinder& b, FirewalldConfig& c) {
  b.field("enabled", c.enabled,
          "Watch firewalld on the system bus (DBUS_SYSTEM_BUS_ADDRESS honoured): a Reloaded "
          "signal or a restart triggers an immediate netfilter check and repair, and its zones "
          "are checked against what the node needs.");
  b.field("node_port_range", c.node_port_range,
          "The cluster's NodePort range (kube-apiserver --service-node-port-range), checked "
          "against firewalld's open ports for tcp and udp; empty: not checked.",
          [](const std::string& v) -> std::optional<std::string> {
            if (v.empty()) return std::nullopt;
            const auto dash = v.find('-');
            if (dash == std::string::npos) return "must be FIRST-LAST, like 30000-32767";
            try {
              size_t used_lo = 0, used_hi = 0;
              const int lo = std::stoi(v.substr(0, dash), &used_lo);
              const int hi = std::stoi(v.substr(dash + 1), &used_hi);
              if (used_lo != dash || dash + 1 + used_hi != v.size()) {
                return "must be FIRST-LAST, like 30000-32767";
              }
              if (lo < 1 || hi > 65535 || lo > hi) return "ports must be 1-65535 and FIRST <= LAST";
            } catch (...) {
              return "must be FIRST-LAST, like 30000-32767";
            }
            return std::nullopt;
          });
  b.field("pod_cidrs", c.pod_cidrs,
          "Pod CIDRs whose traffic firewalld must accept (empty: learned from the routes view, "
          "else from the CNI bridge chains).",
          core::cidr());
  b.field("cni_interfaces", c.cni_interfaces,
          "CNI interfaces that must be in an accepting zone (trusted); '+' is a wildcard suffix "
          "as in firewalld. Only interfaces that exist on the node are judged.");
  b.field("kubelet_port", c.kubelet_port,
          "The kubelet API port (tcp) that must be open in the uplink zones; 0: not checked.",
          core::int_range(0, 65535));
  b.field("vxlan_port", c.vxlan_port,
          "The VXLAN udp port checked when the node has a VXLAN device or peers (Calico 4789, "
          "flannel 8472).",
          core::int_range(1, 65535));
  b.field("ignore_checks", c.ignore_checks,
          "Conflict checks not to judge: node_ports, host_port, kubelet, bgp, vxlan, ipip, "
          "cni_interface, pod_forwarding, panic_mode, policy_drop.",
          [](const std::string& v) -> std::optional<std::string> {
            if (parse_check(v)) return std::nullopt;
            return "unknown check \"" + v +
                   "\" (node_ports, host_port, kubelet, bgp, vxlan, ipip, cni_interface, "
                   "pod_forwarding, panic_mode, policy_drop)";
          });
  b.field("recheck_interval", c.recheck_interval,
          "How often firewalld's zones are asked again without a signal (zone changes and "
          "reloads are signalled and checked at once).",
          core::duration_range(1s, 1h));
  b.field("retry_max", c.retry_max,
          "Longest wait between attempts to reach the bus or firewalld (exponential backoff "
          "from 1s).",
          core::duration_range(1s, 10min));
}

}  // namespace ng::netfilter::firewalld
