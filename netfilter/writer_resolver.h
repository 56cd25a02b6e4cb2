#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/files.h"
#include "netfilter/change_writer.h"

namespace ng::netfilter {

// What a process's cgroup says about who runs it: the systemd unit (nftables.service,
// firewalld.service, session-3.scope, user@0.service) and/or the container (the runtime's id,
// 64 hex as the runtime prints it in full; `crictl ps` shows its first 12).
struct CgroupOwner {
  std::string unit;
  std::string container;
  std::string runtime;  // cri-containerd | crio | docker | libpod | "" (cgroupfs driver: unknown)
};

// Pure: the bytes of /proc/PID/cgroup (cgroup v2 `0::/path`, v1 `N:controllers:/path` lines,
// both in a hybrid layout) -> the unit and container, empty when the path names neither. The
// v2 line is preferred, then v1 `name=systemd`, then any other v1 line. Knows the systemd driver
// scopes (cri-containerd-, crio-, docker-, libpod-<id>.scope), containerd's `slice:cri-containerd:
// <id>` form, and the cgroupfs driver's `/kubepods/<qos>/pod<uid>/<id>`, `/docker/<id>` paths.
// Bounded: at most kMaxLines lines and kMaxPath bytes per path are looked at.
CgroupOwner parse_cgroup_owner(std::string_view proc_cgroup);

// A container id as `crictl ps` shows it: the first 12 hex digits.
std::string short_container_id(std::string_view id);

// Fills ChangeWriter::unit and ::container from <proc_root>/<pid>/cgroup through the file seam,
// reading at most kReadLimit bytes. Called on the loop by the NftMonitor as each generation is
// read: procfs reads do not block on disks. A process already gone leaves the writer as the
// kernel named it (pid and comm). proc_root is the host's /proc as the agent sees it
// (netfilter.proc_root; in the DaemonSet the host's /proc mounted read-only at /host/proc,
// because the kernel's NFTA_GEN_PROC_PID is a pid of the host's pid namespace).
class CgroupWriterResolver {
 public:
  static constexpr size_t kReadLimit = 4096;

  CgroupWriterResolver(core::Files& files, std::string proc_root);
  void operator()(ChangeWriter& writer);

  std::uint64_t resolved() const { return resolved_; }
  std::uint64_t gone() const { return gone_; }  // /proc/PID/cgroup could not be read

 private:
  core::Files& files_;
  std::string proc_root_;
  std::uint64_t resolved_ = 0;
  std::uint64_t gone_ = 0;
};

}  // namespace ng::netfilter
