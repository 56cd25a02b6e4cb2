#pragma once

#include <string>
#include <vector>

#include "core/config_binder.h"

namespace ng::probes::bgp {

struct BgpConfig {
  bool enabled = true;
  std::vector<std::string> bird_sockets = {"/var/run/calico/bird.ctl", "/var/run/calico/bird6.ctl"};
  core::Millis poll_interval{5000};
  core::Millis timeout{2000};
};

void bind_config(core::ConfigBinder& b, BgpConfig& c);

}  // namespace ng::probes::bgp
