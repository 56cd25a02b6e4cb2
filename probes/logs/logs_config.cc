#include "probes/logs/logs_config.h"

namespace ng::probes::logs {

void bind_config(core::ConfigBinder& b, LogsConfig& c) {
  b.field("enabled", c.enabled, "Tail container and kubelet logs and match failure patterns.");
  b.field("container_dirs", c.container_dirs,
          "Directories of CRI container logs (symlinks into /var/log/pods).",
          core::absolute_path(false));
  b.field("files", c.files, "Further plain log files to follow.", core::absolute_path(false));
  b.field("kubelet", c.kubelet,
          "kubelet's log: journald (unit kubelet.service), an absolute file path, or empty (off).",
          [](const std::string& v) -> std::optional<std::string> {
            if (v.empty() || v == "journald" || v.front() == '/') return std::nullopt;
            return "must be journald, an absolute path or empty; got \"" + v + "\"";
          });
  b.field("rules", c.rules,
          "node-problem-detector system-log-monitor rule files (JSON); empty uses the built-in "
          "rules.",
          core::absolute_path(false));
  b.field("max_line_bytes", c.max_line_bytes,
          "Longest line kept; longer lines are cut here and counted.",
          core::int_range(256, 16 * 1024 * 1024));
}

}  // namespace ng::probes::logs
