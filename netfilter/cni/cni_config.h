#pragma once

#include <string>

#include "core/config_binder.h"

namespace ng::netfilter::cni {

struct CniConfig {
  std::string cache_dir = "/var/lib/cni";
  std::string mode = "repair";  // repair | report | off
  // The portmap plugin release whose iptables output is reproduced (its behaviour differs by
  // version: masqAll exists from 1.2.0). Debian 12 ships 1.1.1.
  std::string portmap_version = "1.1.1";
  // How often the results directory is looked at (one stat; a change is read at once). Every
  // entry is re-read and its network namespace checked at least every 10 s anyway.
  core::Millis poll_interval{250};
  // In repair mode, rules still missing this long after they were first seen missing (dry-run,
  // failing repairs, a fight) raise HostPortRulesMissing. In report mode it is raised at once.
  core::Millis missing_grace{10000};
};

void bind_config(core::ConfigBinder& b, CniConfig& c);

}  // namespace ng::netfilter::cni
