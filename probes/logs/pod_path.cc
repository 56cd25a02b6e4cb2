#include "probes/logs/pod_path.h"

#include <vector>

namespace ng::probes::logs {
namespace {

std::string_view basename(std::string_view p) {
  const size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    const size_t i = s.find(sep, start);
    out.push_back(s.substr(start, i == std::string_view::npos ? i : i - start));
    if (i == std::string_view::npos) break;
    start = i + 1;
  }
  return out;
}

bool is_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::optional<PodRef> pod_from_path(std::string_view path) {
  // /var/log/pods/<ns>_<pod>_<uid>/<container>/<n>.log[.rotation suffix]
  auto parts = split(path, '/');
  if (parts.size() >= 4) {
    const std::string_view dir = parts[parts.size() - 3];
    const std::string_view container = parts[parts.size() - 2];
    const std::string_view file = parts.back();
    auto ids = split(dir, '_');
    const bool numbered = !file.empty() && file[0] >= '0' && file[0] <= '9' &&
                          file.find(".log") != std::string_view::npos;
    if (ids.size() == 3 && numbered && !ids[0].empty() && !ids[1].empty() && !container.empty()) {
      PodRef r;
      r.namespace_ = ids[0];
      r.pod = ids[1];
      r.uid = ids[2];
      r.container = container;
      return r;
    }
  }
  // /var/log/containers/<pod>_<ns>_<container>-<id>.log
  std::string_view name = basename(path);
  if (!name.ends_with(".log")) return std::nullopt;
  name.remove_suffix(4);
  auto ids = split(name, '_');
  if (ids.size() != 3 || ids[0].empty() || ids[1].empty()) return std::nullopt;
  const size_t dash = ids[2].rfind('-');
  if (dash == std::string_view::npos || dash == 0 || !is_hex64(ids[2].substr(dash + 1))) {
    return std::nullopt;
  }
  PodRef r;
  r.pod = ids[0];
  r.namespace_ = ids[1];
  r.container = ids[2].substr(0, dash);
  return r;
}

}  // namespace ng::probes::logs
