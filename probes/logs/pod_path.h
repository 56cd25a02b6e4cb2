#pragma once

#include <optional>
#include <string_view>

#include "probes/logs/log_types.h"

namespace ng::probes::logs {

// Pod, namespace and container from a kubelet log path:
//   /var/log/containers/<pod>_<namespace>_<container>-<64 hex>.log   (the symlink)
//   /var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log  (its target)
// nullopt when the path has neither shape.
std::optional<PodRef> pod_from_path(std::string_view path);

}  // namespace ng::probes::logs
