#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config_binder.h"

namespace ng::netfilter::firewalld {

struct FirewalldConfig {
  bool enabled = true;
  std::string node_port_range = "30000-32767";
  std::vector<std::string> pod_cidrs;
  std::vector<std::string> cni_interfaces = {"cni0", "cali+", "flannel.1", "vxlan.calico", "tunl0"};
  std::int64_t kubelet_port = 10250;
  std::int64_t vxlan_port = 4789;
  std::vector<std::string> ignore_checks;
  core::Millis recheck_interval{60000};
  core::Millis retry_max{30000};
};

void bind_config(core::ConfigBinder& b, FirewalldConfig& c);

}  // namespace ng::netfilter::firewalld
