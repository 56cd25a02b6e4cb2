#include "agent/node_paths.h"

namespace ng::agent {

namespace {

std::string parent_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

// "unix:path=/run/dbus/system_bus_socket,guid=..." -> "/run/dbus/system_bus_socket"; other
// transports (abstract sockets, tcp) have no path to check.
std::string bus_socket(std::string_view address) {
  if (address.empty()) return "/run/dbus/system_bus_socket";
  constexpr std::string_view kPrefix = "unix:path=";
  if (address.substr(0, kPrefix.size()) != kPrefix) return {};
  address.remove_prefix(kPrefix.size());
  return std::string(address.substr(0, address.find(',')));
}

}  // namespace

std::vector<NodePath> required_node_paths(const AgentConfig& c, std::string_view dbus_address) {
  std::vector<NodePath> out;
  if (c.cni.mode != "off") {
    out.push_back({c.cni.cache_dir, "hostPort rules rebuilt from the CNI cache (cni.cache_dir)"});
    // containerd and CRI-O keep pod network namespaces here; without it no cache entry can be
    // verified, and none is rebuilt.
    out.push_back({"/var/run/netns",
                   "CNI cache entries verified against their pod's network namespace (the "
                   "runtime's netns directory, mounted HostToContainer)"});
  }
  if (c.firewalld.enabled) {
    if (const std::string sock = bus_socket(dbus_address); !sock.empty()) {
      out.push_back({parent_of(sock), "firewalld reload and restart signals (the system bus)"});
    }
  }
  if (c.bgp.enabled) {
    for (const auto& s : c.bgp.bird_sockets) {
      const std::string dir = parent_of(s);
      bool seen = false;
      for (const auto& p : out) seen = seen || p.path == dir;
      if (!seen) out.push_back({dir, "BGP session state from BIRD (bgp.bird_sockets)"});
    }
  }
  if (c.logs.enabled) {
    for (const auto& d : c.logs.container_dirs) {
      out.push_back({d, "container log patterns (logs.container_dirs)"});
    }
    if (c.logs.kubelet == "journald") {
      if (!c.logs.journal_dir.empty()) {
        out.push_back({c.logs.journal_dir, "kubelet log patterns (logs.journal_dir)"});
      } else {
        out.push_back({"/etc/machine-id", "kubelet log patterns (the local journal's machine id)"});
      }
    }
  }
  return out;
}

NodePathsCheck::NodePathsCheck(std::vector<NodePath> paths, core::Files& files,
                               core::HealthSink& health, core::Logger log)
    : paths_(std::move(paths)), files_(files), health_(health), log_(std::move(log)) {}

void NodePathsCheck::start() {
  started_ = true;
  missing_.clear();
  std::string list;
  for (const auto& p : paths_) {
    if (files_.exists(p.path)) continue;
    missing_.push_back(p);
    log_.warn("node path missing; mount it into the pod",
              {{"path", p.path}, {"breaks", p.feature}});
    list += (list.empty() ? "" : "; ") + p.path + " (" + p.feature + ")";
  }
  core::ConditionReport r;
  r.type = "NodePathMissing";
  r.active = !missing_.empty();
  r.reason = r.active ? "NotMounted" : "AllPresent";
  r.message = r.active ? "not there (a hostPath mount the pod lacks, or a node without that "
                         "part): " +
                             list +
                             ". See docs/operations.md, what the agent needs "
                             "from the node."
                       : "every node path the enabled features read is there";
  r.severity = core::Severity::kWarning;
  health_.set_condition(r);
}

core::ComponentStatus NodePathsCheck::status() const {
  core::ComponentStatus s;
  if (!started_) return s;
  s.state = missing_.empty() ? core::ComponentState::kRunning : core::ComponentState::kDegraded;
  s.message = missing_.empty() ? std::to_string(paths_.size()) + " node paths present"
                               : std::to_string(missing_.size()) + " of " +
                                     std::to_string(paths_.size()) + " node paths missing";
  for (const auto& p : missing_) s.details.emplace_back("missing", p.path);
  return s;
}

}  // namespace ng::agent
