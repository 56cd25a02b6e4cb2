#pragma once

#include <map>
#include <string>

#include "probes/logs/fs_watcher.h"

namespace ng::testing {

// Records watched directories; the test delivers hints by hand (as inotify or polling would).
class FakeFsWatcher final : public probes::logs::FsWatcher {
 public:
  void set_handler(Handler h) override { handler_ = std::move(h); }
  void set_degraded_handler(DegradedHandler h) override { degraded_ = std::move(h); }
  void watch_dir(const std::string& dir) override { ++refs[dir]; }
  void unwatch_dir(const std::string& dir) override {
    if (--refs[dir] <= 0) refs.erase(dir);
  }
  size_t watched_dirs() const override { return refs.size(); }
  size_t polled_dirs() const override { return polled; }
  void stop() override {}

  void hint(const std::string& dir, std::string_view name = {}) {
    if (handler_) handler_(dir, name);
  }
  void hint_all() {
    auto copy = refs;
    for (const auto& [d, _] : copy) hint(d);
  }
  void degrade(const core::EnvError& e) {
    if (degraded_) degraded_(e);
  }

  std::map<std::string, int> refs;
  size_t polled = 0;

 private:
  Handler handler_;
  DegradedHandler degraded_;
};

}  // namespace ng::testing
