#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ng::netfilter::cni {

// A containernetworking-plugins release. The portmap plugin's iptables output changed over
// releases; the generator reproduces the configured one.
struct PortmapVersion {
  int major = 1;
  int minor = 1;
  int patch = 1;

  bool at_least(int ma, int mi, int pa) const;
  // masqAll (hairpin masquerade for every source) exists from 1.2.0; earlier releases ignore it.
  bool has_masq_all() const { return at_least(1, 2, 0); }
  // The "backend" option (iptables or nftables) exists from 1.5.0.
  bool has_backend_option() const { return at_least(1, 5, 0); }
  std::string str() const;
};

// "1.1.1" or "v1.1.1"; nullopt when malformed or older than 0.8.6 (before that release the
// hairpin rule matched the container address only, which is not reproduced).
std::optional<PortmapVersion> parse_portmap_version(std::string_view text);

}  // namespace ng::netfilter::cni
