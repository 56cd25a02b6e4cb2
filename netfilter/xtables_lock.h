#pragma once

#include <chrono>
#include <string>

#include "core/result.h"

namespace ng::netfilter {

// The lock every iptables tool takes before writing: flock(2) on /run/xtables.lock, or on the
// path in XTABLES_LOCKFILE when set (tests point it at a temp file so they never contend with
// the host). Waits up to a timeout, polling like `iptables -w` does. Thread-safe: each
// acquire() opens its own descriptor.
class XtablesLock {
 public:
  // Empty path: XTABLES_LOCKFILE, else /run/xtables.lock.
  explicit XtablesLock(std::string path = {});
  const std::string& path() const { return path_; }

  // Holds the lock until destroyed.
  class Held {
   public:
    Held() = default;
    explicit Held(int fd) : fd_(fd) {}
    Held(Held&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Held& operator=(Held&& o) noexcept;
    ~Held();
    bool held() const { return fd_ >= 0; }

   private:
    int fd_ = -1;
  };

  // kLockBusy after `timeout`; kPermission/kIo when the file cannot be opened.
  core::Result<Held> acquire(std::chrono::milliseconds timeout) const;

  static std::string default_path();

 private:
  std::string path_;
};

}  // namespace ng::netfilter
