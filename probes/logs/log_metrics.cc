#include "probes/logs/log_metrics.h"

namespace ng::probes::logs {

using prometheus::BuildCounter;
using prometheus::BuildGauge;

LogMetrics::LogMetrics(prometheus::Registry& r)
    : lines_family(BuildCounter()
                       .Name("nodeguard_log_lines_total")
                       .Help("Log lines read (after joining partial CRI/Docker fragments)")
                       .Register(r)),
      bytes_family(BuildCounter()
                       .Name("nodeguard_log_bytes_total")
                       .Help("Bytes of log files and journal messages read")
                       .Register(r)),
      truncated_family(BuildCounter()
                           .Name("nodeguard_log_lines_truncated_total")
                           .Help("Lines cut at logs.max_line_bytes")
                           .Register(r)),
      decode_errors_family(BuildCounter()
                               .Name("nodeguard_log_decode_errors_total")
                               .Help("Container log lines neither CRI nor Docker JSON; passed on "
                                     "as plain text")
                               .Register(r)),
      problems_family(BuildCounter()
                          .Name("nodeguard_log_problems_total")
                          .Help("Lines matching a problem rule, by rule reason and source kind")
                          .Register(r)),
      rotations_family(BuildCounter()
                           .Name("nodeguard_log_rotations_total")
                           .Help("Followed files rotated: renamed, truncated or deleted")
                           .Register(r)),
      suppressed_family(BuildCounter()
                            .Name("nodeguard_log_events_suppressed_total")
                            .Help("Problem events not recorded because their rule exceeded its "
                                  "event rate for that pod, or over all pods (the match is still "
                                  "counted)")
                            .Register(r)),
      rules_family(BuildGauge().Name("nodeguard_log_rules").Help("Log rules by state").Register(r)),
      files_tailed(BuildGauge()
                       .Name("nodeguard_log_files_tailed")
                       .Help("Files open for tailing, rotated ones still being drained included")
                       .Register(r)
                       .Add({})),
      polled_dirs(BuildGauge()
                      .Name("nodeguard_log_polled_directories")
                      .Help("Directories followed by polling because inotify ran out")
                      .Register(r)
                      .Add({})),
      files_limit(BuildGauge()
                      .Name("nodeguard_log_files_limit")
                      .Help("Most files open for tailing at once: logs.max_files, or fewer when "
                            "the open-file limit minus a reserve for the rest of the agent is "
                            "lower")
                      .Register(r)
                      .Add({})),
      files_not_opened(BuildCounter()
                           .Name("nodeguard_log_files_not_opened_total")
                           .Help("Log files not opened because nodeguard_log_files_limit files "
                                 "were open (a followed path is tried again at each rescan)")
                           .Register(r)
                           .Add({})),
      rotated_rename(rotations_family.Add({{"kind", "rename"}})),
      rotated_truncate(rotations_family.Add({{"kind", "truncate"}})),
      rotated_delete(rotations_family.Add({{"kind", "delete"}})),
      checkpoint_writes(BuildCounter()
                            .Name("nodeguard_log_checkpoint_writes_total")
                            .Help("Checkpoint files written (offsets and journald cursor)")
                            .Register(r)
                            .Add({})),
      stream_dropped_lines(BuildCounter()
                               .Name("nodeguard_log_stream_dropped_lines_total")
                               .Help("Lines not sent to a TailLogs client that read too slowly")
                               .Register(r)
                               .Add({})),
      streams(BuildGauge()
                  .Name("nodeguard_log_streams")
                  .Help("TailLogs streams open")
                  .Register(r)
                  .Add({})),
      rules_loaded(rules_family.Add({{"state", "loaded"}})),
      rules_rejected(rules_family.Add({{"state", "rejected"}})) {
  for (int k = 0; k < kSourceKinds; ++k) {
    const std::string src(to_string(static_cast<SourceKind>(k)));
    lines_[k] = &lines_family.Add({{"source", src}});
    bytes_[k] = &bytes_family.Add({{"source", src}});
    truncated_[k] = &truncated_family.Add({{"source", src}});
    decode_errors_[k] = &decode_errors_family.Add({{"source", src}});
  }
}

prometheus::Counter& LogMetrics::problems(const std::string& reason, SourceKind k) {
  return problems_family.Add({{"reason", reason}, {"source", std::string(to_string(k))}});
}

prometheus::Counter& LogMetrics::events_suppressed(const std::string& reason) {
  return suppressed_family.Add({{"reason", reason}});
}

}  // namespace ng::probes::logs
