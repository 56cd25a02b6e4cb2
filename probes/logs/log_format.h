#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "probes/logs/log_types.h"

namespace ng::probes::logs {

// Pure decoders from one raw file line (without its '\n') to the container's message. They never
// allocate except into the caller's scratch buffer, and accept any bytes: invalid UTF-8 and
// binary garbage pass through (or fail to decode) without harm.

struct DecodedLine {
  std::string_view time;  // RFC 3339 as written by the runtime; empty when unknown
  Stream stream = Stream::kUnknown;
  bool partial = false;      // a fragment: more of the same logical line follows
  std::string_view message;  // without the trailing newline
};

// CRI (containerd, CRI-O): "<RFC3339Nano> <stdout|stderr> <P|F>[:tags] <message>".
std::optional<DecodedLine> decode_cri(std::string_view line);

// Docker json-file: {"log":"...\n","stream":"stdout","time":"..."}. The unescaped message is
// written to scratch (reused by the caller); a log value without a trailing "\n" is partial.
std::optional<DecodedLine> decode_docker_json(std::string_view line, std::string& scratch);

enum class LineFormat { kAuto, kCri, kDocker, kPlain };

// Container logs: Docker when the line starts with '{', else CRI; nullopt when neither parses
// (the caller counts it and passes the raw line on as plain text).
std::optional<DecodedLine> decode_container_line(std::string_view line, std::string& scratch);

// Joins partial fragments of one stream into a logical line, never holding more than max_bytes:
// the excess is cut and reported as truncated.
class PartialAssembler {
 public:
  explicit PartialAssembler(size_t max_bytes) : max_(max_bytes) {}

  // Feeds one fragment. Returns true when a logical line is complete; *out then views it (valid
  // until the next call) and *truncated says whether bytes were cut.
  // `cut` says the fragment itself was already shortened by the caller.
  // `limit` lowers max_bytes for this line (a file's buffers share one cap, line_decoder.h).
  bool add(std::string_view fragment, bool partial, std::string_view* out, bool* truncated,
           bool cut = false, size_t limit = static_cast<size_t>(-1));
  bool pending() const { return pending_; }
  size_t held() const { return pending_ ? buf_.size() : 0; }
  size_t capacity() const { return buf_.capacity(); }
  // Gives back memory beyond what a pending line holds plus `slack`.
  void trim(size_t slack);
  void reset();

 private:
  size_t max_;
  std::string buf_;
  bool pending_ = false;
  bool cut_ = false;
};

// "2016-10-06T00:17:09.669794202Z" or with a numeric offset; nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view s);

}  // namespace ng::probes::logs
