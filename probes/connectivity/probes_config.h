#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config_binder.h"

namespace ng::probes::connectivity {

struct TcpTarget {
  std::string name;
  std::string address;            // HOST:PORT
  std::string kind = "external";  // peer | pod | external
};

void bind_config(core::ConfigBinder& b, TcpTarget& t);

struct IcmpTarget {
  std::string name;
  std::string address;            // an IP address (no port)
  std::string kind = "external";  // peer | pod | external
};

void bind_config(core::ConfigBinder& b, IcmpTarget& t);

struct ProbesConfig {
  bool enabled = true;
  std::vector<TcpTarget> tcp;
  std::vector<IcmpTarget> icmp;
  core::Millis interval{10000};
  core::Millis timeout{2000};
  std::int64_t failure_threshold = 3;
};

void bind_config(core::ConfigBinder& b, ProbesConfig& c);

}  // namespace ng::probes::connectivity
