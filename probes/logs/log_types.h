#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ng::probes::logs {

// Where a line came from. Metric labels use these names, never pods or paths.
enum class SourceKind : std::uint8_t { kContainer = 0, kKubelet = 1, kFile = 2 };
inline constexpr int kSourceKinds = 3;
std::string_view to_string(SourceKind k);

enum class Stream : std::uint8_t { kUnknown = 0, kStdout = 1, kStderr = 2 };
std::string_view to_string(Stream s);

// The pod a container log belongs to, from its path; empty for non-container sources.
struct PodRef {
  std::string namespace_;
  std::string pod;
  std::string uid;
  std::string container;
  bool empty() const { return pod.empty() && namespace_.empty() && container.empty(); }
};

}  // namespace ng::probes::logs
