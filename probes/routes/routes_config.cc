#include "probes/routes/routes_config.h"

#include "probes/routes/ip_prefix.h"

namespace ng::probes::routes {

using namespace std::chrono_literals;

namespace {

// A pod block: a network address with its prefix (host bits clear), IPv4 or IPv6.
core::Check<std::string> block() {
  return [](const std::string& v) -> std::optional<std::string> {
    if (IpPrefix::parse(v)) return std::nullopt;
    if (IpPrefix::parse(v, true)) {
      return "\"" + v + "\" has host bits set; the block is " +
             IpPrefix::parse(v, true)->to_string();
    }
    return "must be a CIDR block like 10.244.1.0/26 or fd00:10::/122; got \"" + v + "\"";
  };
}

}  // namespace

void bind_config(core::ConfigBinder& b, PeerSpec& p) {
  b.field("name", p.name, "Peer name for reports (default: its node IP).");
  b.field("node_ip", p.node_ip, "The peer node's address.", core::ip_address());
  b.field("blocks", p.blocks, "Pod CIDR blocks the peer owns.", block());
  b.field("tunnel_address", p.tunnel_address,
          "The peer's VXLAN VTEP or IPIP tunnel address, when encapsulated.",
          [](const std::string& v) -> std::optional<std::string> {
            if (v.empty()) return std::nullopt;
            return core::ip_address()(v);
          });
  b.field("encapsulation", p.encapsulation, "Expected encapsulation towards this peer.",
          core::one_of({"none", "ipip", "vxlan", "ipip-crosssubnet", "vxlan-crosssubnet"}));
}

void bind_config(core::ConfigBinder& b, RoutesConfig& c) {
  b.field("enabled", c.enabled, "Check the routes to every peer's pod blocks.");
  b.list("peers", c.peers,
         "Static expected peers, merged with peers learned from BIRD and set over gRPC.");
  b.field("own_blocks", c.own_blocks,
          "This node's own pod blocks (empty: taken from its blackhole routes).", block());
  b.field("node_address", c.node_address,
          "This node's address as registered with the CNI, with its prefix length (Calico's "
          "spec.bgp.ipv4Address, e.g. 192.168.1.10/24); a /32 is reported because CrossSubnet "
          "then encapsulates traffic to every peer. Empty: unknown.",
          [](const std::string& v) -> std::optional<std::string> {
            if (v.empty() || (v.find('/') != std::string::npos && IpPrefix::parse(v, true))) {
              return std::nullopt;
            }
            return "must be ADDRESS/PREFIX (e.g. 192.168.1.10/24); got \"" + v + "\"";
          });
  b.field("table", c.table, "Routing table the CNI programs pod routes into (254 = main).",
          core::int_range(1, 0xFFFFFFFFLL));
  b.field("ipip_device", c.ipip_device, "The IPIP tunnel device (Calico: tunl0).",
          core::not_empty());
  b.field("vxlan_devices", c.vxlan_devices,
          "VXLAN devices that carry pod traffic (Calico: vxlan.calico, vxlan-v6.calico; flannel: "
          "flannel.1). Links of kind vxlan count too.");
  b.field("recheck_interval", c.recheck_interval,
          "Full re-dump and re-check even without netlink events.", core::duration_range(1s, 1h));
}

}  // namespace ng::probes::routes
