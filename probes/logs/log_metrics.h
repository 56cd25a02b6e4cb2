#pragma once

#include <array>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "probes/logs/log_types.h"

namespace ng::probes::logs {

// Every log metric, labelled by source kind and rule reason only: never by pod or path, so
// the series count stays bounded on any node. Documented in docs/metrics.md.
struct LogMetrics {
  explicit LogMetrics(prometheus::Registry& registry);

  prometheus::Counter& lines(SourceKind k) { return *lines_[static_cast<int>(k)]; }
  prometheus::Counter& bytes(SourceKind k) { return *bytes_[static_cast<int>(k)]; }
  prometheus::Counter& truncated(SourceKind k) { return *truncated_[static_cast<int>(k)]; }
  prometheus::Counter& decode_errors(SourceKind k) { return *decode_errors_[static_cast<int>(k)]; }
  prometheus::Counter& problems(const std::string& reason, SourceKind k);
  prometheus::Counter& events_suppressed(const std::string& reason);

  prometheus::Family<prometheus::Counter>& lines_family;
  prometheus::Family<prometheus::Counter>& bytes_family;
  prometheus::Family<prometheus::Counter>& truncated_family;
  prometheus::Family<prometheus::Counter>& decode_errors_family;
  prometheus::Family<prometheus::Counter>& problems_family;
  prometheus::Family<prometheus::Counter>& rotations_family;
  prometheus::Family<prometheus::Counter>& suppressed_family;
  prometheus::Family<prometheus::Gauge>& rules_family;
  prometheus::Gauge& files_tailed;
  prometheus::Gauge& polled_dirs;
  prometheus::Gauge& files_limit;
  prometheus::Counter& files_not_opened;
  prometheus::Counter& rotated_rename;
  prometheus::Counter& rotated_truncate;
  prometheus::Counter& rotated_delete;
  prometheus::Counter& checkpoint_writes;
  prometheus::Counter& stream_dropped_lines;
  prometheus::Gauge& streams;
  prometheus::Gauge& rules_loaded;
  prometheus::Gauge& rules_rejected;

 private:
  std::array<prometheus::Counter*, kSourceKinds> lines_{};
  std::array<prometheus::Counter*, kSourceKinds> bytes_{};
  std::array<prometheus::Counter*, kSourceKinds> truncated_{};
  std::array<prometheus::Counter*, kSourceKinds> decode_errors_{};
};

}  // namespace ng::probes::logs
