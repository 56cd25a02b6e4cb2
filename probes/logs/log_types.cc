#include "probes/logs/log_types.h"

namespace ng::probes::logs {

std::string_view to_string(SourceKind k) {
  switch (k) {
    case SourceKind::kContainer:
      return "container";
    case SourceKind::kKubelet:
      return "kubelet";
    case SourceKind::kFile:
      return "file";
  }
  return "unknown";
}

std::string_view to_string(Stream s) {
  switch (s) {
    case Stream::kStdout:
      return "stdout";
    case Stream::kStderr:
      return "stderr";
    case Stream::kUnknown:
      break;
  }
  return "";
}

}  // namespace ng::probes::logs
