#include "probes/logs/system_fs_watcher.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>

namespace ng::probes::logs {
namespace {

constexpr std::uint32_t kDirMask = IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                                   IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF |
                                   IN_ONLYDIR;

}  // namespace

SystemFsWatcher::SystemFsWatcher(boost::asio::io_context& io, core::Clock& clock,
                                 core::Duration poll_interval, core::Duration retry_interval)
    : io_(io),
      clock_(clock),
      poll_interval_(poll_interval),
      retry_interval_(retry_interval),
      poll_timer_(clock.make_timer()),
      buf_(64 * 1024) {}

SystemFsWatcher::~SystemFsWatcher() {
  stop();
}

void SystemFsWatcher::stop() {
  stopped_ = true;
  *alive_ = false;
  poll_timer_->cancel();
  if (stream_) {
    boost::system::error_code ec;
    stream_->cancel(ec);
    stream_->close(ec);  // closes fd_
    stream_.reset();
    fd_ = -1;
  } else if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  wd_dir_.clear();
  dir_wd_.clear();
}

void SystemFsWatcher::ensure_instance() {
  if (fd_ >= 0 || stopped_) return;
  // After a refusal, ask the kernel again only at retry time, not once per directory.
  const auto now = clock_.now();
  if (init_failed_ && now - last_init_attempt_ < retry_interval_) return;
  last_init_attempt_ = now;
  fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  init_failed_ = fd_ < 0;
  if (fd_ < 0) {
    const int err = errno;
    if (degraded_) {
      auto e = core::EnvError::from_errno(err, "inotify_init1");
      if (err == EMFILE || err == ENFILE) {
        e.kind = core::EnvErrorKind::kResourceLimit;
        e.message =
            "no inotify instance left (fs.inotify.max_user_instances); polling every " +
            std::to_string(
                std::chrono::duration_cast<std::chrono::milliseconds>(poll_interval_).count()) +
            " ms instead";
      }
      degraded_(e);
    }
    return;
  }
  stream_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, fd_);
  read_events();
}

bool SystemFsWatcher::try_inotify(const std::string& dir) {
  ensure_instance();
  if (fd_ < 0) return false;
  const int wd = ::inotify_add_watch(fd_, dir.c_str(), kDirMask);
  if (wd < 0) {
    const int err = errno;
    if (err == ENOSPC && degraded_) {
      degraded_(core::EnvError{core::EnvErrorKind::kResourceLimit,
                               "no inotify watch left (fs.inotify.max_user_watches) for " + dir +
                                   "; polling it instead"});
    }
    // ENOENT and friends: the directory is not there (yet); polling notices when it appears.
    return false;
  }
  wd_dir_[wd] = dir;
  dir_wd_[dir] = wd;
  return true;
}

void SystemFsWatcher::watch_dir(const std::string& dir) {
  if (stopped_) return;
  if (refs_[dir]++ > 0) return;
  if (!try_inotify(dir)) {
    polled_.insert(dir);
    arm_poll();
  }
}

void SystemFsWatcher::unwatch_dir(const std::string& dir) {
  auto it = refs_.find(dir);
  if (it == refs_.end() || --it->second > 0) return;
  refs_.erase(it);
  polled_.erase(dir);
  auto w = dir_wd_.find(dir);
  if (w != dir_wd_.end()) {
    if (fd_ >= 0) ::inotify_rm_watch(fd_, w->second);
    wd_dir_.erase(w->second);
    dir_wd_.erase(w);
  }
}

void SystemFsWatcher::arm_poll() {
  if (stopped_ || poll_timer_->armed() || polled_.empty()) return;
  poll_timer_->arm(poll_interval_, [this] { on_poll(); });
}

void SystemFsWatcher::on_poll() {
  // Retry inotify for polled directories now and then: limits may have been raised, other
  // processes may have released instances or watches.
  const auto now = clock_.now();
  if (now - last_retry_ >= retry_interval_) {
    last_retry_ = now;
    last_init_attempt_ = {};
    std::vector<std::string> dirs(polled_.begin(), polled_.end());
    for (const auto& d : dirs) {
      if (try_inotify(d)) polled_.erase(d);
    }
  }
  // Copy: the handler may watch or unwatch directories.
  std::vector<std::string> dirs(polled_.begin(), polled_.end());
  for (const auto& d : dirs) {
    if (handler_) handler_(d, {});
  }
  arm_poll();
}

void SystemFsWatcher::read_events() {
  if (!stream_) return;
  stream_->async_wait(
      boost::asio::posix::stream_descriptor::wait_read,
      [this, alive = alive_](const boost::system::error_code& ec) {
        if (ec || !*alive || stopped_) return;
        std::vector<std::pair<std::string, std::string>> hints;
        bool overflow = false;
        for (;;) {
          const ssize_t n = ::read(fd_, buf_.data(), buf_.size());
          if (n <= 0) break;
          for (ssize_t off = 0; off < n;) {
            auto* ev = reinterpret_cast<const inotify_event*>(buf_.data() + off);
            off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
            if (ev->mask & IN_Q_OVERFLOW) {
              overflow = true;
              continue;
            }
            auto it = wd_dir_.find(ev->wd);
            if (it == wd_dir_.end()) continue;
            if (ev->mask & IN_IGNORED) {
              // The directory went away: its files are drained through their open fds; poll
              // for it to come back only if someone still wants it.
              const std::string dir = it->second;
              dir_wd_.erase(dir);
              wd_dir_.erase(it);
              if (refs_.count(dir)) {
                polled_.insert(dir);
                arm_poll();
              }
              hints.emplace_back(dir, "");
              continue;
            }
            std::string name = ev->len ? std::string(ev->name) : std::string();
            if (!hints.empty() && hints.back().first == it->second && hints.back().second == name) {
              continue;  // the same file written again in this batch
            }
            hints.emplace_back(it->second, std::move(name));
          }
          if (n < static_cast<ssize_t>(buf_.size())) break;
        }
        if (overflow) {
          // Events were lost: look at everything.
          std::vector<std::string> dirs;
          for (const auto& [d, _] : refs_) dirs.push_back(d);
          for (const auto& d : dirs) {
            if (handler_) handler_(d, {});
          }
        } else {
          for (const auto& [d, name] : hints) {
            if (handler_ && *alive) handler_(d, name);
          }
        }
        if (*alive && !stopped_) read_events();
      });
}

}  // namespace ng::probes::logs
