#pragma once

#include <string>

#include "core/config_binder.h"

namespace ng::netfilter::cni {

struct CniConfig {
  std::string cache_dir = "/var/lib/cni";
  std::string mode = "repair";  // repair | report | off
};

void bind_config(core::ConfigBinder& b, CniConfig& c);

}  // namespace ng::netfilter::cni
