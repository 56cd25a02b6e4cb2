#include "netfilter/writer_label.h"

#include <algorithm>
#include <array>

namespace ng::netfilter {

namespace {

constexpr size_t kCommMax = 15;  // TASK_COMM_LEN - 1

// Comms as the kernel reports them (cut to 15): the iptables tools under each name Debian
// installs them (the alternatives symlinks keep the name they were run as), nft and the
// services that run it, and the controllers that write a node's tables themselves.
constexpr std::array<std::string_view, 30> kAllowList = {
    "nft",
    "iptables",
    "ip6tables",
    "iptables-nft",
    "ip6tables-nft",
    "iptables-restor",
    "ip6tables-resto",
    "iptables-nft-re",
    "ip6tables-nft-r",
    "iptables-legacy",
    "ip6tables-legac",
    "xtables-nft-mul",
    "xtables-legacy-",
    "ebtables",
    "firewalld",
    "firewall-cmd",
    "ufw",
    "kube-proxy",
    "kubelet",
    "calico-node",
    "calico-felix",
    "portmap",
    "bridge",
    "nodeguard",
    "ansible",
    "containerd",
    "dockerd",
    "cilium-agent",
    "netavark",
    "systemd",
};

}  // namespace

bool WriterLabels::allow_listed(std::string_view comm) {
  return std::find(kAllowList.begin(), kAllowList.end(), comm) != kAllowList.end();
}

std::string WriterLabels::sanitize(std::string_view comm) {
  std::string out(comm.substr(0, kCommMax));
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  return out;
}

std::string WriterLabels::label(std::string_view comm) {
  if (comm.empty()) return std::string(kUnknown);
  std::string name = sanitize(comm);
  // The label values of their own would be ambiguous.
  if (name == kUnknown || name == kOther) return std::string(kOther);
  if (allow_listed(name) || learned_.count(name)) return name;
  if (learned_.size() < max_learned_) {
    learned_.insert(name);
    return name;
  }
  return std::string(kOther);
}

std::string WriterLabels::label(const std::optional<ChangeWriter>& writer) {
  if (!writer || !writer->known()) return std::string(kUnknown);
  // A pid without a name: a writer, but none we can name.
  return writer->comm.empty() ? std::string(kOther) : label(writer->comm);
}

}  // namespace ng::netfilter
