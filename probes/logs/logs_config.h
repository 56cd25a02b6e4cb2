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
  std::string kubelet_unit = "kubelet.service";
  std::string journal_dir;         // empty: the local system journal
  std::vector<std::string> rules;  // node-problem-detector style rule files; empty: built-in
  std::int64_t max_line_bytes = 64 * 1024;
  // Sized so the worst case fits the DaemonSet's 256Mi (docs/operations.md, memory budget).
  std::int64_t max_files = 1500;
  core::Millis poll_interval{1000};
  core::Millis checkpoint_interval{1000};
  core::Millis rotate_wait{10000};
  core::Millis condition_clear_after{600000};
  bool read_from_head = false;
};

void bind_config(core::ConfigBinder& b, LogsConfig& c);

}  // namespace ng::probes::logs
