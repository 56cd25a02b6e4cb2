#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "probes/logs/file_tailer.h"
#include "probes/logs/matcher.h"

namespace ng::probes::logs {

// The TailLogs filters. Empty fields match everything; all given fields must match.
struct LogFilter {
  std::string namespace_;
  std::string pod;
  std::string container;
  Stream stream = Stream::kUnknown;                            // kUnknown: both
  std::optional<SourceKind> source;                            // nullopt: every source
  std::shared_ptr<LineRegex> regex;                            // on the message
  std::optional<std::chrono::system_clock::time_point> since;  // on the line's own time

  // Cheap checks that do not look at the message (pod, source, stream).
  bool matches_origin(SourceKind kind, const PodRef* pod, Stream stream) const;
  // Whether a file may hold matching lines (its source and pod; streams are mixed in a file).
  bool matches_file(SourceKind kind, const PodRef* pod) const;
  // Everything; `now` stands in for lines without a time of their own.
  bool matches(const LineMeta& meta, std::string_view message,
               std::chrono::system_clock::time_point now) const;
};

// Someone who wants lines as they are read (a TailLogs stream). Called on the loop; deliver
// must copy what it keeps and never block.
class LogSubscriber {
 public:
  virtual ~LogSubscriber() = default;
  virtual const LogFilter& filter() const = 0;
  virtual void deliver(const LineMeta& meta, std::string_view message,
                       std::chrono::system_clock::time_point time) = 0;
  virtual void flush() {}
};

}  // namespace ng::probes::logs
