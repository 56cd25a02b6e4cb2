#include "netfilter/firewalld/firewalld_config.h"

namespace ng::netfilter::firewalld {

using namespace std::chrono_literals;

void bind_config(core::ConfigBinder& b, FirewalldConfig& c) {
  b.field("enabled", c.enabled,
          "Watch firewalld on the system bus (DBUS_SYSTEM_BUS_ADDRESS honoured): a Reloaded "
          "signal or a restart triggers an immediate netfilter check and repair.");
  b.field("node_port_range", c.node_port_range,
          "The cluster's NodePort range, checked against firewalld's open ports.",
          [](const std::string& v) -> std::optional<std::string> {
            const auto dash = v.find('-');
            if (dash == std::string::npos) return "must be FIRST-LAST, like 30000-32767";
            try {
              const int lo = std::stoi(v.substr(0, dash));
              const int hi = std::stoi(v.substr(dash + 1));
              if (lo < 1 || hi > 65535 || lo > hi) return "ports must be 1-65535 and FIRST <= LAST";
            } catch (...) {
              return "must be FIRST-LAST, like 30000-32767";
            }
            return std::nullopt;
          });
  b.field("pod_cidrs", c.pod_cidrs,
          "Pod CIDRs whose forwarding firewalld must allow (empty: taken from the routes view).",
          core::cidr());
  b.field("cni_interfaces", c.cni_interfaces,
          "CNI interfaces that must be trusted by firewalld; '+' is a wildcard suffix as in "
          "firewalld.");
  b.field("retry_max", c.retry_max, "Longest wait between attempts to reach the bus or firewalld.",
          core::duration_range(1s, 10min));
}

}  // namespace ng::netfilter::firewalld
