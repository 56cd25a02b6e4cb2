#include "probes/logs/logs_config.h"

namespace ng::probes::logs {

using namespace std::chrono_literals;

void bind_config(core::ConfigBinder& b, LogsConfig& c) {
  b.field("enabled", c.enabled, "Tail container and kubelet logs and match failure patterns.");
  b.field("container_dirs", c.container_dirs,
          "Directories of CRI container logs (*.log, symlinks into /var/log/pods).",
          core::absolute_path(false));
  b.field("files", c.files,
          "Further plain log files to follow (source kind \"file\"), e.g. /var/log/kern.log.",
          core::absolute_path(false));
  b.field("kubelet", c.kubelet,
          "kubelet's log: journald (unit logs.kubelet_unit), an absolute file path, or empty "
          "(off).",
          [](const std::string& v) -> std::optional<std::string> {
            if (v.empty() || v == "journald" || v.front() == '/') return std::nullopt;
            return "must be journald, an absolute path or empty; got \"" + v + "\"";
          });
  b.field("kubelet_unit", c.kubelet_unit, "systemd unit whose journal entries are kubelet's.",
          core::not_empty());
  b.field("journal_dir", c.journal_dir,
          "Read journal files from this directory instead of the local system journal (a "
          "host journal mounted into the pod, e.g. /run/log/journal or /var/log/journal).",
          core::absolute_path(true));
  b.field("rules", c.rules,
          "node-problem-detector system-log-monitor rule files (JSON); empty uses the built-in "
          "rules (config/rules/*.json). A rule whose pattern does not compile is skipped and "
          "reported.",
          core::absolute_path(false));
  b.field("max_line_bytes", c.max_line_bytes,
          "Longest line kept (after joining partial lines); longer lines are cut here and "
          "counted. Per file, an unterminated line and both streams' partial lines share this "
          "much (docs/operations.md, log tailing budgets).",
          core::int_range(256, 16 * 1024 * 1024));
  b.field(
      "max_files", c.max_files,
      "Most log files open at once (container logs, rotated files still draining, "
      "logs.files, kubelet's file). Each may hold up to max_line_bytes + ~8 KiB; the "
      "default fits the DaemonSet's 256Mi memory limit (docs/operations.md, log tailing budgets). "
      "Also kept 256 below the open-file limit, for the rest of the agent.",
      core::int_range(1, 1000000));
  b.field("poll_interval", c.poll_interval,
          "How often directories are polled when inotify instances or watches run out.",
          core::duration_range(100ms, 60s));
  b.field("checkpoint_interval", c.checkpoint_interval,
          "How often read positions are written to state_dir/logs/checkpoints while lines flow "
          "(a matched problem is written within 100ms).",
          core::duration_range(100ms, 60s));
  b.field("rotate_wait", c.rotate_wait,
          "A rotated or deleted file is still read until it has not grown for this long.",
          core::duration_range(1s, 10min));
  b.field("condition_clear_after", c.condition_clear_after,
          "A condition set by a permanent rule clears after this long without a matching "
          "line; 0 keeps it until restart (node-problem-detector's behaviour).",
          core::duration_range(0ms, 24h * 7));
  b.field("read_from_head", c.read_from_head,
          "On the very first start (no checkpoint yet), read existing files from the beginning "
          "instead of only new lines.");
}

}  // namespace ng::probes::logs
