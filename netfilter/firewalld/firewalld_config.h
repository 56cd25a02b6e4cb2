#pragma once

#include <string>
#include <vector>

#include "core/config_binder.h"

namespace ng::netfilter::firewalld {

struct FirewalldConfig {
  bool enabled = true;
  std::string node_port_range = "30000-32767";
  std::vector<std::string> pod_cidrs;
  std::vector<std::string> cni_interfaces = {"cni0", "cali+", "flannel.1", "vxlan.calico", "tunl0"};
  core::Millis retry_max{30000};
};

void bind_config(core::ConfigBinder& b, FirewalldConfig& c);

}  // namespace ng::netfilter::firewalld
