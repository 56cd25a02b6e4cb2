#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/ip_prefix.h"
#include "netfilter/cni/cache_file.h"
#include "netfilter/cni/portmap_version.h"

namespace ng::netfilter::cni {

// The portmap plugin's options (containernetworking/plugins plugins/meta/portmap).
struct PortmapOptions {
  bool snat = true;
  int mark_masq_bit = 13;
  std::optional<std::string> external_set_mark_chain;
  bool masq_all = false;  // only releases that know it (portmap_version >= 1.2.0)
  std::vector<std::string> conditions_v4;
  std::vector<std::string> conditions_v6;
};

// A pod address as the CNI result gives it: the address and its prefix ("10.244.1.2/24").
struct ContainerNet {
  core::IpAddress address;
  int prefix = 32;
  core::IpPrefix network() const { return core::IpPrefix::of(address, prefix); }
};

// One portmap ADD as the plugin saw it: libcni injected the list's name and the runtime's port
// mappings (when the plugin declares capabilities.portMappings), and the previous plugins'
// result gave the pod addresses.
struct PortmapInvocation {
  std::string network;
  std::string container_id;
  std::string if_name;
  PortmapOptions options;
  std::vector<PortMapping> mappings;
  std::optional<ContainerNet> ipv4;
  std::optional<ContainerNet> ipv6;
};

// What one cache entry means for portmap.
struct PortmapPlan {
  std::vector<PortmapInvocation> invocations;  // empty: no hostPort rules come from this entry
  std::string why_none;     // why there are none, in words ("no portmap plugin in the config")
  std::string unsupported;  // set: rules may exist but cannot be reproduced (or the ADD failed)
  std::string invalid;      // set: the embedded config is not valid JSON (a malformed file)
};

// Pure: finds the portmap plugins in the cached config and works out what each ADD did, with
// portmap's own checks (a config it rejects never produced rules).
PortmapPlan plan_portmap(const CacheEntry& entry, const PortmapVersion& version);

// The extra match arguments of conditionsV4/V6 in iptables-save order, or why they cannot be
// reproduced. Supported: [!] -s/-d ADDR[/LEN] and [!] -i/-o IFACE, each at most once.
struct Conditions {
  std::string header;  // "-s 10.0.0.0/8 ! -i eth1" (empty when none)
  std::string error;
};
Conditions render_conditions(const std::vector<std::string>& args, core::IpFamily family);

}  // namespace ng::netfilter::cni
