#include "netfilter/cni/sandbox_probe.h"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <cerrno>
#include <cstring>

namespace ng::netfilter::cni {

namespace {

std::string errno_text(int e) {
  return std::strerror(e);
}

// "/proc/<pid>/ns/net" -> "<pid>", else empty.
std::string proc_pid(const std::string& path) {
  constexpr std::string_view kPrefix = "/proc/", kSuffix = "/ns/net";
  if (path.size() <= kPrefix.size() + kSuffix.size() || path.rfind(kPrefix, 0) != 0 ||
      path.compare(path.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
    return {};
  }
  std::string pid = path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
  for (char c : pid) {
    if (c < '0' || c > '9') return {};
  }
  return pid;
}

std::string parent_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

std::string_view to_string(Presence p) {
  switch (p) {
    case Presence::kPresent:
      return "present";
    case Presence::kGone:
      return "gone";
    case Presence::kUnknown:
      return "unknown";
  }
  return "unknown";
}

PresenceVerdict PosixSandboxProbe::netns(const std::string& path) {
  if (path.empty()) return {Presence::kUnknown, "no network namespace recorded in the cache entry"};
  if (path.front() != '/') return {Presence::kUnknown, "netns path \"" + path + "\" is relative"};
  if (const std::string pid = proc_pid(path); !pid.empty()) {
    struct stat pid_dir {};
    if (::stat(("/proc/" + pid).c_str(), &pid_dir) != 0) {
      if (errno == ENOENT) return {Presence::kGone, "process " + pid + " has exited"};
      return {Presence::kUnknown, "/proc/" + pid + ": " + errno_text(errno)};
    }
    struct stat ns {};
    struct stat own {};
    if (::stat(path.c_str(), &ns) != 0 || ::stat("/proc/self/ns/net", &own) != 0) {
      if (errno == ENOENT) return {Presence::kGone, path + " does not exist"};
      return {Presence::kUnknown, path + ": " + errno_text(errno)};
    }
    if (ns.st_dev == own.st_dev && ns.st_ino == own.st_ino) {
      return {Presence::kGone,
              "process " + pid + " is in the host's network namespace (the pid was reused)"};
    }
    return {Presence::kPresent, ""};
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err != ENOENT) return {Presence::kUnknown, path + ": " + errno_text(err)};
    struct stat dir {};
    const std::string parent = parent_of(path);
    if (::stat(parent.c_str(), &dir) != 0 || !S_ISDIR(dir.st_mode)) {
      return {Presence::kUnknown,
              parent + " is not visible here (mount the runtime's netns directory)"};
    }
    return {Presence::kGone, path + " does not exist"};
  }
  struct statfs fs {};
  if (::statfs(path.c_str(), &fs) != 0) {
    return {Presence::kUnknown, path + ": " + errno_text(errno)};
  }
  if (static_cast<unsigned long>(fs.f_type) == NSFS_MAGIC) return {Presence::kPresent, ""};
  return {Presence::kUnknown,
          path +
              " exists but is not a namespace mount (unmounted, or its directory is mounted "
              "without HostToContainer propagation)"};
}

}  // namespace ng::netfilter::cni
