#include "netfilter/firewalld/node_needs.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <map>

#include "core/ip_prefix.h"
#include "netfilter/chain_names.h"
#include "netfilter/save_codec.h"

namespace ng::netfilter::firewalld {

namespace {

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

// The value after `flag` in a rule's arguments, or empty.
std::string arg_after(const std::vector<std::string>& args, std::string_view flag) {
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == flag) return args[i + 1];
  }
  return "";
}

bool negated_before(const std::vector<std::string>& args, std::string_view flag) {
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == flag) return args[i - 1] == "!";
  }
  return false;
}

bool is_portmap_chain(const std::string& chain) {
  return chain == kHostportDnat || starts_with(chain, kDnatChainPrefix);
}

bool global_address(const sockaddr* sa) {
  if (!sa) return false;
  if (sa->sa_family == AF_INET) {
    const auto a = ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr);
    return (a >> 24) != 127 && (a >> 16) != 0xa9fe;  // not loopback, not 169.254/16
  }
  if (sa->sa_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
    return !IN6_IS_ADDR_LOOPBACK(&a) && !IN6_IS_ADDR_LINKLOCAL(&a);
  }
  return false;
}

}  // namespace

std::vector<NodeInterface> system_interfaces() {
  std::map<std::string, NodeInterface> by_name;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return {};
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_name) continue;
    auto& e = by_name[i->ifa_name];
    e.name = i->ifa_name;
    if (global_address(i->ifa_addr)) e.has_global_address = true;
  }
  ::freeifaddrs(list);
  std::vector<NodeInterface> out;
  for (auto& [_, e] : by_name) out.push_back(std::move(e));
  return out;
}

std::vector<PortSpec> host_ports_from(const GuardView& view) {
  std::vector<PortSpec> out;
  for (const auto& t : view.tables) {
    if (t.key.table != kNatTable || !t.snapshot) continue;
    for (const auto& chain : t.snapshot->chains) {
      if (!is_portmap_chain(chain.name)) continue;
      for (const auto& rule : chain.rules) {
        auto args = split_args(rule.spec);
        if (!args) continue;
        const std::string proto = arg_after(*args, "-p");
        if (proto != "tcp" && proto != "udp" && proto != "sctp") continue;
        std::string ports = arg_after(*args, "--dport");
        if (ports.empty()) ports = arg_after(*args, "--dports");
        if (ports.empty() || negated_before(*args, "--dport")) continue;
        // "8080", "8080,8443", "8000:8010"
        size_t start = 0;
        while (start <= ports.size()) {
          const size_t comma = ports.find(',', start);
          std::string one =
              ports.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
          std::replace(one.begin(), one.end(), ':', '-');
          if (auto p = parse_port_spec(one, proto)) {
            const bool dup = std::any_of(out.begin(), out.end(), [&](const PortSpec& x) {
              return x.first == p->first && x.last == p->last && x.protocol == p->protocol;
            });
            if (!dup) out.push_back(*p);
          }
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const PortSpec& a, const PortSpec& b) {
    return std::tie(a.first, a.protocol) < std::tie(b.first, b.protocol);
  });
  return out;
}

std::vector<std::string> pod_cidrs_from(const GuardView& view) {
  static const auto kMulticast4 = core::IpPrefix::parse("224.0.0.0/4");
  static const auto kMulticast6 = core::IpPrefix::parse("ff00::/8");
  std::vector<std::string> out;
  for (const auto& t : view.tables) {
    if (t.key.table != kNatTable || !t.snapshot) continue;
    for (const auto& chain : t.snapshot->chains) {
      if (!starts_with(chain.name, "CNI-") || is_portmap_chain(chain.name) ||
          starts_with(chain.name, "CNI-HOSTPORT-")) {
        continue;
      }
      for (const auto& rule : chain.rules) {
        if (rule.target != "ACCEPT") continue;
        auto args = split_args(rule.spec);
        if (!args || negated_before(*args, "-d")) continue;
        const std::string dst = arg_after(*args, "-d");
        auto c = core::IpPrefix::parse(dst, true);
        if (!c || c->is_host()) continue;  // a subnet, not one address
        if ((kMulticast4 && kMulticast4->contains(*c)) ||
            (kMulticast6 && kMulticast6->contains(*c))) {
          continue;
        }
        add_unique(out, c->to_string());
      }
    }
  }
  return out;
}

std::vector<PolicyDrop> policy_drops_from(const GuardView& view) {
  std::vector<PolicyDrop> out;
  auto add = [&](const TableKey& k, const std::string& chain, bool flipped) {
    const std::string where = k.str() + " " + chain;
    for (const auto& d : out) {
      if (d.where == where) return;
    }
    const std::string tool = std::string(k.family == Family::kIPv6 ? "ip6tables-" : "iptables-") +
                             std::string(to_string(k.backend));
    out.push_back({where, tool + " -t " + k.table + " -P " + chain + " ACCEPT", flipped});
  };
  for (const auto& t : view.tables) {
    for (const auto& r : t.reports) {
      if (r.kind == DriftKind::kPolicyChanged) add(t.key, r.chain, true);
    }
  }
  for (const auto& t : view.tables) {
    if (!t.snapshot) continue;
    for (const auto& c : t.snapshot->chains) {
      if (c.builtin() && c.policy == "DROP") add(t.key, c.name, false);
    }
  }
  return out;
}

NodeNeeds assemble_needs(const FirewalldConfig& config, const NodeFacts& facts,
                         const GuardView& view) {
  NodeNeeds n;
  if (!config.node_port_range.empty()) {
    const auto dash = config.node_port_range.find('-');
    n.node_ports = parse_port_spec(config.node_port_range, "tcp");
    if (dash == std::string::npos) n.node_ports.reset();
  }
  n.kubelet_port = static_cast<int>(config.kubelet_port);
  n.vxlan_port = static_cast<int>(config.vxlan_port);
  n.cni_patterns = config.cni_interfaces;
  n.interfaces = facts.interfaces.empty() ? system_interfaces() : facts.interfaces;
  n.host_ports = host_ports_from(view);
  n.policy_drops = policy_drops_from(view);
  for (const auto& name : config.ignore_checks) {
    if (auto c = parse_check(name)) n.ignored.insert(*c);
  }

  n.bgp = facts.bgp_sessions;
  n.bgp_peers = facts.bgp_peers;
  n.overlay_peers = facts.peer_nodes;
  n.vxlan = facts.vxlan_peers;
  n.ipip = facts.ipip_peers;
  for (const auto& i : n.interfaces) {
    if (i.name == "kube-ipvs0") n.ipvs = true;
    const bool cni = std::any_of(config.cni_interfaces.begin(), config.cni_interfaces.end(),
                                 [&](const auto& p) { return interface_matches(p, i.name); });
    if (i.kind == "vxlan" ||
        (cni && (starts_with(i.name, "vxlan") || starts_with(i.name, "flannel.")))) {
      n.vxlan = true;
    }
    if (i.kind == "ipip" || i.name == "tunl0") n.ipip = true;
  }

  if (!config.pod_cidrs.empty()) {
    n.pod_cidrs = config.pod_cidrs;
    n.pod_cidrs_from = "config firewalld.pod_cidrs";
  } else if (!facts.pod_cidrs.empty()) {
    n.pod_cidrs = facts.pod_cidrs;
    n.pod_cidrs_from = "learned from the routes";
    for (const auto& c : pod_cidrs_from(view)) add_unique(n.pod_cidrs, c);
  } else {
    n.pod_cidrs = pod_cidrs_from(view);
    if (!n.pod_cidrs.empty()) n.pod_cidrs_from = "learned from the CNI chains";
  }
  n.pod_traffic_on_uplink = facts.pod_traffic_on_uplink;
  return n;
}

}  // namespace ng::netfilter::firewalld
