#include "netfilter/cni/cni_config.h"

#include "netfilter/cni/portmap_version.h"

namespace ng::netfilter::cni {

using namespace std::chrono_literals;

void bind_config(core::ConfigBinder& b, CniConfig& c) {
  b.field("cache_dir", c.cache_dir,
          "libcni's cache directory (containerd and cri-o: /var/lib/cni); the result of every CNI "
          "ADD is cached under results/.",
          core::absolute_path(false));
  b.field("mode", c.mode,
          "repair: rebuild missing hostPort DNAT rules from the cache through the netfilter "
          "guard's atomic commit; report: only report them (HostPortRulesMissing); off: ignore "
          "the cache.",
          core::one_of({"repair", "report", "off"}));
  b.field("portmap_version", c.portmap_version,
          "Release of the portmap plugin on the node (containernetworking-plugins), whose "
          "iptables rules are reproduced byte for byte: masqAll is honoured from 1.2.0. "
          "Supported: 0.8.6 and later.",
          [](const std::string& v) -> std::optional<std::string> {
            auto parsed = parse_portmap_version(v);
            if (!parsed) return "must be a release like 1.1.1 (0.8.6 or later)";
            return std::nullopt;
          });
  b.field("poll_interval", c.poll_interval,
          "How often the results directory is looked at (one stat); a change is read at once. "
          "Entries are re-read and their network namespaces checked every 10 s anyway.",
          core::duration_range(10ms, 10s));
  b.field("missing_grace", c.missing_grace,
          "repair mode: how long cached hostPort rules may stay missing (dry-run, failing or "
          "backed-off repairs) before HostPortRulesMissing is raised. report mode raises it at "
          "once.",
          core::duration_range(0ms, 1h));
}

}  // namespace ng::netfilter::cni
