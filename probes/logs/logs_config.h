#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config_binder.h"

namespace ng::probes::logs {

struct LogsConfig {
  bool enabled = true;
  std::vector<std::string> container_dirs = {"/var/log/containers"};
  std::vector<std::string> files;
  std::string kubelet = "journald";  // journald, a file path, or "" (off)
  std::vector<std::string> rules;    // node-problem-detector style rule files; empty: built-in
  std::int64_t max_line_bytes = 64 * 1024;
};

void bind_config(core::ConfigBinder& b, LogsConfig& c);

}  // namespace ng::probes::logs
