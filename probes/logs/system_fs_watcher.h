#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "core/clock.h"
#include "probes/logs/fs_watcher.h"

namespace ng::probes::logs {

// inotify on the agent loop (one instance, one watch per directory), with a polling fallback
// that takes over per directory when the kernel refuses an inotify instance (EMFILE,
// fs.inotify.max_user_instances) or a watch (ENOSPC, max_user_watches). Polling reports every
// polled directory once per poll_interval: the cost is a stat per followed file per interval,
// never a busy loop. Directories that fell back are retried on inotify every retry_interval.
class SystemFsWatcher final : public FsWatcher {
 public:
  SystemFsWatcher(boost::asio::io_context& io, core::Clock& clock, core::Duration poll_interval,
                  core::Duration retry_interval = std::chrono::seconds(60));
  ~SystemFsWatcher() override;

  void set_handler(Handler h) override { handler_ = std::move(h); }
  void set_degraded_handler(DegradedHandler h) override { degraded_ = std::move(h); }
  void watch_dir(const std::string& dir) override;
  void unwatch_dir(const std::string& dir) override;
  size_t watched_dirs() const override { return refs_.size(); }
  size_t polled_dirs() const override { return polled_.size(); }
  void stop() override;

  bool inotify_available() const { return fd_ >= 0; }

 private:
  bool try_inotify(const std::string& dir);
  void ensure_instance();
  void read_events();
  void arm_poll();
  void on_poll();

  boost::asio::io_context& io_;
  core::Clock& clock_;
  core::Duration poll_interval_;
  core::Duration retry_interval_;
  Handler handler_;
  DegradedHandler degraded_;
  int fd_ = -1;
  std::unique_ptr<boost::asio::posix::stream_descriptor> stream_;
  std::map<std::string, int> refs_;
  std::map<int, std::string> wd_dir_;
  std::map<std::string, int> dir_wd_;
  std::set<std::string> polled_;
  std::unique_ptr<core::Timer> poll_timer_;
  core::MonoTime last_retry_{};
  core::MonoTime last_init_attempt_{};
  bool init_failed_ = false;
  std::vector<char> buf_;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ng::probes::logs
