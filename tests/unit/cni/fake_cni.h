#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "netfilter/cni/cache_store.h"
#include "netfilter/cni/sandbox_probe.h"

namespace ng::testing {

// An in-memory results directory. Every write bumps the file's mtime (the fake's own clock,
// nanoseconds since the epoch, settable) and the directory's.
class FakeCacheStore final : public netfilter::cni::CacheStore {
 public:
  using FileStamp = netfilter::cni::FileStamp;

  const std::string& dir() const override { return dir_; }
  core::Result<FileStamp> dir_stamp() override {
    std::lock_guard l(mu_);
    if (list_error_) return *list_error_;
    if (!exists_) return core::EnvError{core::EnvErrorKind::kNotFound, dir_ + ": absent"};
    return dir_stamp_;
  }
  core::Result<std::vector<std::pair<std::string, FileStamp>>> list() override {
    std::lock_guard l(mu_);
    ++lists_;
    if (list_error_) return *list_error_;
    std::vector<std::pair<std::string, FileStamp>> out;
    for (const auto& [n, f] : files_) out.emplace_back(n, f.stamp);
    return out;
  }
  core::Result<std::string> read(const std::string& name, size_t max) override {
    std::lock_guard l(mu_);
    ++reads_;
    auto it = files_.find(name);
    if (it == files_.end()) return core::EnvError{core::EnvErrorKind::kNotFound, name};
    if (unreadable_.count(name)) return core::EnvError{core::EnvErrorKind::kPermission, name};
    return it->second.bytes.substr(0, max + 1);
  }

  void write(const std::string& name, std::string bytes) {
    std::lock_guard l(mu_);
    exists_ = true;
    auto& f = files_[name];
    f.bytes = std::move(bytes);
    f.stamp.ino = f.stamp.ino ? f.stamp.ino : ++next_ino_;
    f.stamp.size = f.bytes.size();
    f.stamp.mtime_ns = tick();
    dir_stamp_.mtime_ns = now_ns_;
  }
  void remove(const std::string& name) {
    std::lock_guard l(mu_);
    files_.erase(name);
    dir_stamp_.mtime_ns = tick();
  }
  void set_now(std::int64_t ns) {
    std::lock_guard l(mu_);
    now_ns_ = ns;
  }
  void set_exists(bool e) {
    std::lock_guard l(mu_);
    exists_ = e;
  }
  void set_list_error(std::optional<core::EnvError> e) {
    std::lock_guard l(mu_);
    list_error_ = std::move(e);
  }
  void set_unreadable(const std::string& name) {
    std::lock_guard l(mu_);
    unreadable_[name] = true;
  }
  int reads() const {
    std::lock_guard l(mu_);
    return reads_;
  }

 private:
  struct File {
    std::string bytes;
    FileStamp stamp;
  };
  std::int64_t tick() { return now_ns_ += 1000; }  // every change gets a later mtime

  mutable std::mutex mu_;
  std::string dir_ = "/var/lib/cni/results";
  bool exists_ = true;
  FileStamp dir_stamp_{1, 1, 0, 0};
  std::map<std::string, File> files_;
  std::map<std::string, bool> unreadable_;
  std::optional<core::EnvError> list_error_;
  std::int64_t now_ns_ = 1'700'000'000'000'000'000;
  std::uint64_t next_ino_ = 100;
  int lists_ = 0;
  int reads_ = 0;
};

// Namespaces by path: present unless told otherwise; "" is unknown, as in production.
class FakeSandboxProbe final : public netfilter::cni::SandboxProbe {
 public:
  using Presence = netfilter::cni::Presence;
  netfilter::cni::PresenceVerdict netns(const std::string& path) override {
    std::lock_guard l(mu_);
    ++probes_;
    if (path.empty()) return {Presence::kUnknown, "no network namespace recorded"};
    auto it = state_.find(path);
    if (it == state_.end()) return {Presence::kPresent, ""};
    return {it->second, path + " is " + std::string(netfilter::cni::to_string(it->second))};
  }
  void set(const std::string& path, Presence p) {
    std::lock_guard l(mu_);
    state_[path] = p;
  }
  int probes() const {
    std::lock_guard l(mu_);
    return probes_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Presence> state_;
  int probes_ = 0;
};

}  // namespace ng::testing
