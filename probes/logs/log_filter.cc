#include "probes/logs/log_filter.h"

#include "probes/logs/log_format.h"

namespace ng::probes::logs {

bool LogFilter::matches_origin(SourceKind kind, const PodRef* p, Stream s) const {
  if (stream != Stream::kUnknown && s != stream) return false;
  return matches_file(kind, p);
}

bool LogFilter::matches_file(SourceKind kind, const PodRef* p) const {
  if (source && *source != kind) return false;
  if (!namespace_.empty() || !pod.empty() || !container.empty()) {
    if (!p) return false;
    if (!namespace_.empty() && p->namespace_ != namespace_) return false;
    if (!pod.empty() && p->pod != pod) return false;
    if (!container.empty() && p->container != container) return false;
  }
  return true;
}

bool LogFilter::matches(const LineMeta& meta, std::string_view message,
                        std::chrono::system_clock::time_point now) const {
  if (!matches_origin(meta.kind, meta.pod, meta.stream)) return false;
  if (since) {
    std::optional<std::chrono::system_clock::time_point> t;
    if (meta.wall.time_since_epoch().count() != 0) {
      t = meta.wall;
    } else if (!meta.time.empty()) {
      t = parse_rfc3339(meta.time);
    }
    if (t.value_or(now) < *since) return false;
  }
  if (regex && !regex->matches(message)) return false;
  return true;
}

}  // namespace ng::probes::logs
