#pragma once

#include <string>

namespace ng::netfilter::cni {

// Whether a cached container still exists, judged by its network namespace (the sandbox's
// lifetime: the runtime removes it when the pod sandbox stops, and a reboot loses them all).
enum class Presence {
  kPresent,  // the namespace is there: the cached rules belong to a live pod
  kGone,     // certainly gone: the entry is stale
  kUnknown,  // cannot tell (no path recorded, permission, an unmounted path): never rebuilt
};
std::string_view to_string(Presence p);  // present | gone | unknown

struct PresenceVerdict {
  Presence presence = Presence::kUnknown;
  std::string detail;  // why, in words: "/run/netns/cni-1 does not exist"
};

// The seam for "does it exist" (blocking: called on a worker).
class SandboxProbe {
 public:
  virtual ~SandboxProbe() = default;
  // `netns` is the path the runtime recorded (CacheEntry::netns_path()), maybe empty.
  virtual PresenceVerdict netns(const std::string& netns) = 0;
};

// Production: a bind-mounted namespace file (/run/netns/..., /var/run/netns/...) is present
// when it is an nsfs mount, gone when the file is missing from a directory that exists; a
// /proc/<pid>/ns/net path is gone when the process is, or when the pid now runs in this
// process's own network namespace (the host's: the pid was reused). Anything else is unknown.
// The agent needs the runtime's netns directory mounted with HostToContainer propagation.
class PosixSandboxProbe final : public SandboxProbe {
 public:
  PresenceVerdict netns(const std::string& netns) override;
};

}  // namespace ng::netfilter::cni
