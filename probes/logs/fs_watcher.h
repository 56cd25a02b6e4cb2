#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ng::probes::logs {

// The file-system watch seam. The tailer watches directories (a file's parent, a container log
// dir) and treats every notification as a hint to look: `name` is the entry that changed, or
// empty when anything in `dir` may have changed (polling tick, queue overflow). Loop thread.
class FsWatcher {
 public:
  using Handler = std::function<void(const std::string& dir, std::string_view name)>;
  // Told once per episode when a kernel limit forced polling (inotify instances or watches).
  using DegradedHandler = std::function<void(const core::EnvError&)>;

  virtual ~FsWatcher() = default;
  virtual void set_handler(Handler h) = 0;
  virtual void set_degraded_handler(DegradedHandler h) = 0;
  // Reference counted per directory. Never fails: a directory that cannot be watched with
  // inotify is polled.
  virtual void watch_dir(const std::string& dir) = 0;
  virtual void unwatch_dir(const std::string& dir) = 0;
  virtual size_t watched_dirs() const = 0;
  virtual size_t polled_dirs() const = 0;
  virtual void stop() = 0;
};

}  // namespace ng::probes::logs
