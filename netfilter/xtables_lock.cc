#include "netfilter/xtables_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <thread>

namespace ng::netfilter {

std::string XtablesLock::default_path() {
  const char* env = std::getenv("XTABLES_LOCKFILE");
  return env && *env ? std::string(env) : std::string("/run/xtables.lock");
}

XtablesLock::XtablesLock(std::string path)
    : path_(path.empty() ? default_path() : std::move(path)) {}

XtablesLock::Held& XtablesLock::Held::operator=(Held&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

XtablesLock::Held::~Held() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

core::Result<XtablesLock::Held> XtablesLock::acquire(std::chrono::milliseconds timeout) const {
  const int fd = ::open(path_.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return core::EnvError::from_errno(errno, "open xtables lock " + path_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // iptables -w polls every second by default; we poll faster because repairs are latency-bound.
  auto wait = std::chrono::microseconds(200);
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return Held(fd);
    if (errno != EWOULDBLOCK && errno != EINTR) {
      const int err = errno;
      ::close(fd);
      return core::EnvError::from_errno(err, "flock " + path_);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::close(fd);
      return core::EnvError{core::EnvErrorKind::kLockBusy,
                            "xtables lock " + path_ + " held by another process for more than " +
                                std::to_string(timeout.count()) + " ms"};
    }
    std::this_thread::sleep_for(wait);
    wait = std::min(wait * 2, std::chrono::microseconds(20000));
  }
}

}  // namespace ng::netfilter
