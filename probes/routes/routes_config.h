#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config_binder.h"

namespace ng::probes::routes {

// One peer node the node should reach, and how.
struct PeerSpec {
  std::string name;  // optional; defaults to the node IP
  std::string node_ip;
  std::vector<std::string> blocks;     // pod CIDR blocks the peer owns
  std::string tunnel_address;          // VXLAN VTEP or IPIP tunnel address, if any
  std::string encapsulation = "none";  // none | ipip | vxlan | ipip-crosssubnet | vxlan-crosssubnet
};

void bind_config(core::ConfigBinder& b, PeerSpec& p);

struct RoutesConfig {
  bool enabled = true;
  std::vector<PeerSpec> peers;
  std::vector<std::string> own_blocks;  // pod blocks of this node (empty: from blackhole routes)
  std::string node_address;             // as registered with the CNI, with prefix ("" unknown)
  std::int64_t table = 254;             // the routing table the CNI programs (main)
  std::string ipip_device = "tunl0";
  std::vector<std::string> vxlan_devices = {"vxlan.calico", "vxlan-v6.calico"};
  core::Millis recheck_interval{30000};
};

void bind_config(core::ConfigBinder& b, RoutesConfig& c);

}  // namespace ng::probes::routes
