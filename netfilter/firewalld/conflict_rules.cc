#include "netfilter/firewalld/conflict_rules.h"

#include <algorithm>
#include <map>

#include "core/strings.h"

namespace ng::netfilter::firewalld {

namespace {

constexpr char kReload[] = " && firewall-cmd --reload";

struct CheckInfo {
  Check check;
  std::string_view name;
  std::string_view condition;
};
constexpr CheckInfo kChecks[] = {
    {Check::kNodePorts, "node_ports", "FirewalldBlocksNodePorts"},
    {Check::kHostPort, "host_port", "FirewalldBlocksHostPort"},
    {Check::kKubelet, "kubelet", "FirewalldBlocksKubelet"},
    {Check::kBgp, "bgp", "FirewalldBlocksBGP"},
    {Check::kVxlan, "vxlan", "FirewalldBlocksVXLAN"},
    {Check::kIpip, "ipip", "FirewalldBlocksIPIP"},
    {Check::kCniInterface, "cni_interface", "FirewalldCNIInterfaceNotTrusted"},
    {Check::kPodForwarding, "pod_forwarding", "FirewalldBlocksPodForwarding"},
    {Check::kPanicMode, "panic_mode", "FirewalldPanicMode"},
    {Check::kPolicyDrop, "policy_drop", "IptablesPolicyDrop"},
};

// A condition message names at most 12 items.
std::string join(const std::vector<std::string>& v, std::string_view sep) {
  return core::join(v, sep, 12);
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

bool is_cni(const NodeNeeds& n, const std::string& ifname) {
  return std::any_of(n.cni_patterns.begin(), n.cni_patterns.end(),
                     [&](const auto& p) { return interface_matches(p, ifname); });
}

bool is_uplink(const NodeNeeds& n, const NodeInterface& i) {
  static const std::set<std::string> kNotUplink = {"vxlan",     "ipip",   "dummy", "gre",
                                                   "wireguard", "ip6tnl", "sit"};
  return i.has_global_address && i.name != "lo" && i.name != "kube-ipvs0" &&
         !kNotUplink.count(i.kind) && !is_cni(n, i.name);
}

// The ports of a service and of the services it includes (bounded: include loops exist).
void service_ports(const FirewalldPolicy& p, const std::string& name, int depth,
                   std::vector<PortSpec>& ports, std::vector<std::string>& protocols) {
  const ServiceDef* s = p.service(name);
  if (!s || depth > 8) return;
  ports.insert(ports.end(), s->ports.begin(), s->ports.end());
  protocols.insert(protocols.end(), s->protocols.begin(), s->protocols.end());
  for (const auto& inc : s->includes) service_ports(p, inc, depth + 1, ports, protocols);
}

// Everything a zone opens, its services resolved.
struct Opened {
  bool all = false;
  std::vector<PortSpec> ports;
  std::vector<std::string> protocols;
};
Opened opened(const FirewalldPolicy& p, const ZoneSettings& z) {
  Opened o;
  o.all = z.accepts_all();
  o.ports = z.ports;
  o.protocols = z.protocols;
  for (const auto& s : z.services) service_ports(p, s, 0, o.ports, o.protocols);
  return o;
}

// The parts of [first, last] no spec of `proto` covers, as "a-b" ranges.
std::vector<std::pair<int, int>> uncovered(const Opened& o, int first, int last,
                                           const std::string& proto) {
  if (o.all) return {};
  std::vector<std::pair<int, int>> spans;
  for (const auto& s : o.ports) {
    if (s.protocol == proto && s.last >= first && s.first <= last)
      spans.emplace_back(s.first, s.last);
  }
  std::sort(spans.begin(), spans.end());
  std::vector<std::pair<int, int>> gaps;
  int next = first;
  for (const auto& [a, b] : spans) {
    if (a > next) gaps.emplace_back(next, std::min(a - 1, last));
    next = std::max(next, b + 1);
    if (next > last) break;
  }
  if (next <= last) gaps.emplace_back(next, last);
  return gaps;
}

bool opens_protocol(const Opened& o, const std::vector<std::string>& names) {
  if (o.all) return true;
  for (const auto& p : o.protocols) {
    std::string lower = p;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (std::find(names.begin(), names.end(), lower) != names.end()) return true;
  }
  return false;
}

std::string range_text(int a, int b) {
  return a == b ? std::to_string(a) : std::to_string(a) + "-" + std::to_string(b);
}

std::string rich_note(const FirewalldPolicy& p, const std::vector<std::string>& zones) {
  size_t n = 0;
  for (const auto& z : zones) {
    if (const ZoneSettings* s = p.zone(z)) n += s->rich_rules.size();
  }
  return n ? " (zone has " + std::to_string(n) +
                 " rich rules nodeguard does not evaluate; they may already allow it)"
           : "";
}

// Built-in chains at DROP drop whatever no rule accepts first: pod forwarding (FORWARD),
// NodePorts and the kubelet (INPUT), DNAT'ed hostPorts (FORWARD).
void policy_drop_finding(const NodeNeeds& n, ConflictReport& r) {
  if (n.ignored.count(Check::kPolicyDrop)) {
    r.skipped.push_back("policy_drop: ignored by config");
    return;
  }
  if (n.policy_drops.empty()) return;
  Finding f;
  f.check = Check::kPolicyDrop;
  f.severity = core::Severity::kWarning;
  std::vector<std::string> flipped, since_start;
  for (const auto& d : n.policy_drops) {
    f.items.push_back(d.where);
    add_unique(f.remedies, d.command);
    (d.flipped ? flipped : since_start).push_back(d.where);
  }
  f.message = "Built-in iptables chains at policy DROP: " + join(f.items, ", ") +
              ". Traffic no rule accepts first is dropped (pod forwarding, NodePorts, "
              "hostPorts).";
  if (!flipped.empty()) {
    f.message += " Flipped from ACCEPT while nodeguard watched (" + join(flipped, ", ") +
                 ": firewalld sets DROP during a reload and puts ACCEPT back at its end; left at "
                 "DROP, it was stopped or failed in between); set netfilter.restore_policies: "
                 "true to have nodeguard restore ACCEPT after each flip.";
  }
  if (!since_start.empty()) {
    f.message += " At DROP since nodeguard first read them (" + join(since_start, ", ") +
                 "): set by a host firewall script, Docker or a firewalld that died in a reload.";
  }
  f.message += " Restore: " + join(f.remedies, "; ");
  r.findings.push_back(std::move(f));
}

class Judge {
 public:
  Judge(const FirewalldPolicy& p, const NodeNeeds& n) : p_(p), n_(n) {
    for (const auto& i : n_.interfaces) {
      if (is_uplink(n_, i)) {
        uplinks_.push_back(i.name);
        add_unique(uplink_zones_, p_.zone_of_interface(i.name));
      }
    }
    if (uplink_zones_.empty()) uplink_zones_.push_back(p_.default_zone);
    r_.uplink_zones = uplink_zones_;
  }

  ConflictReport run() {
    if (!skipped(Check::kPanicMode) && p_.panic_mode) {
      add(Check::kPanicMode, core::Severity::kError, {"panic mode on"},
          {"firewall-cmd --panic-off"},
          "firewalld is in panic mode: every packet in and out of the node is dropped. Turn it "
          "off with `firewall-cmd --panic-off`.");
    }
    node_ports();
    host_ports();
    port_check(Check::kKubelet, n_.kubelet_port != 0, "kubelet port not judged (kubelet_port 0)",
               n_.kubelet_port, "tcp", {}, "the kubelet API",
               "the API server cannot reach this kubelet (logs, exec, port-forward, metrics)",
               core::Severity::kWarning);
    port_check(Check::kBgp, n_.bgp, "no BGP sessions configured on this node", n_.bgp_port, "tcp",
               n_.bgp_peers, "BGP",
               "BGP peers cannot open sessions to this node's BIRD; pod routes depend on this "
               "node connecting out",
               core::Severity::kWarning);
    port_check(Check::kVxlan, n_.vxlan, "no VXLAN device or VXLAN peers", n_.vxlan_port, "udp",
               n_.overlay_peers, "VXLAN",
               "encapsulated pod traffic from other nodes is dropped: cross-node pod traffic "
               "fails",
               core::Severity::kWarning);
    ipip();
    pods();
    policy_drops();
    return std::move(r_);
  }

 private:
  bool skipped(Check c) { return n_.ignored.count(c) > 0; }
  void skip(Check c, const std::string& why) {
    r_.skipped.push_back(std::string(check_name(c)) + ": " + why);
  }
  void add(Check c, core::Severity sev, std::vector<std::string> items,
           std::vector<std::string> remedies, std::string message) {
    r_.findings.push_back(
        Finding{c, sev, std::move(items), std::move(remedies), std::move(message)});
  }
  // The zones traffic from these peers lands in: a source binding, else the uplink zones.
  std::vector<std::string> zones_for(const std::vector<std::string>& peers) {
    std::vector<std::string> zones;
    bool any_unbound = peers.empty();
    for (const auto& a : peers) {
      if (auto z = p_.zone_of_source(a)) {
        add_unique(zones, *z);
      } else {
        any_unbound = true;
      }
    }
    if (any_unbound) {
      for (const auto& z : uplink_zones_) add_unique(zones, z);
    }
    return zones;
  }
  std::string zones_text(const std::vector<std::string>& zones) {
    std::vector<std::string> out;
    for (const auto& z : zones) {
      const ZoneSettings* s = p_.zone(z);
      out.push_back(z + (s ? " (target " + s->target + ")" : " (settings unknown)"));
    }
    return join(out, ", ");
  }

  void node_ports() {
    if (skipped(Check::kNodePorts)) return skip(Check::kNodePorts, "ignored by config");
    if (!n_.node_ports) return skip(Check::kNodePorts, "node_port_range is empty");
    const int a = n_.node_ports->first, b = n_.node_ports->last;
    std::vector<std::string> items, remedies;
    for (const auto& zone : uplink_zones_) {
      const ZoneSettings* z = p_.zone(zone);
      if (!z) continue;
      const Opened o = opened(p_, *z);
      std::string fix;
      for (const char* proto : {"tcp", "udp"}) {
        auto gaps = uncovered(o, a, b, proto);
        if (gaps.empty()) continue;
        std::vector<std::string> parts;
        for (const auto& [x, y] : gaps) parts.push_back(range_text(x, y));
        items.push_back(join(parts, ",") + "/" + proto + " in zone " + zone);
        fix += " --add-port=" + range_text(a, b) + "/" + proto;
      }
      if (!fix.empty())
        remedies.push_back("firewall-cmd --permanent --zone=" + zone + fix + kReload);
    }
    if (items.empty()) return;
    const bool warn = n_.ipvs;
    add(Check::kNodePorts, warn ? core::Severity::kWarning : core::Severity::kInfo, items, remedies,
        "firewalld does not open the NodePort range " + range_text(a, b) + ": " +
            join(items, "; ") + rich_note(p_, uplink_zones_) + ". " +
            (warn ? "kube-proxy runs in IPVS mode (kube-ipvs0), which answers NodePorts after "
                    "firewalld's input filter: NodePort services are unreachable from outside. "
                  : "kube-proxy's DNAT happens before firewalld's filter, which accepts DNAT'ed "
                    "packets, so NodePorts work while kube-proxy's rules are in place; anything "
                    "answering NodePorts in the host (IPVS, host-network proxies) is dropped. ") +
            "Fix: " + join(remedies, "; "));
  }

  void host_ports() {
    if (skipped(Check::kHostPort)) return skip(Check::kHostPort, "ignored by config");
    if (n_.host_ports.empty()) return skip(Check::kHostPort, "no hostPorts in the CNI chains");
    std::vector<std::string> items, remedies;
    for (const auto& zone : uplink_zones_) {
      const ZoneSettings* z = p_.zone(zone);
      if (!z) continue;
      const Opened o = opened(p_, *z);
      std::string fix;
      for (const auto& hp : n_.host_ports) {
        if (uncovered(o, hp.first, hp.last, hp.protocol).empty()) continue;
        items.push_back(hp.str() + " in zone " + zone);
        fix += " --add-port=" + hp.str();
      }
      if (!fix.empty())
        remedies.push_back("firewall-cmd --permanent --zone=" + zone + fix + kReload);
    }
    if (items.empty()) return;
    add(Check::kHostPort, core::Severity::kInfo, items, remedies,
        "firewalld does not open the pods' hostPorts " + join(items, ", ") +
            rich_note(p_, uplink_zones_) +
            ". The CNI portmap plugin DNATs them before firewalld's filter, which accepts "
            "DNAT'ed packets, so they work exactly as long as the CNI's DNAT rules exist (which "
            "nodeguard restores after every firewalld reload); once those rules are gone, "
            "firewalld rejects the traffic. To open them regardless: " +
            join(remedies, "; "));
  }

  void port_check(Check c, bool relevant, const std::string& why_not, int port,
                  const std::string& proto, const std::vector<std::string>& peers,
                  const std::string& what, const std::string& impact, core::Severity sev) {
    if (skipped(c)) return skip(c, "ignored by config");
    if (!relevant) return skip(c, why_not);
    const auto zones = zones_for(peers);
    std::vector<std::string> items, remedies;
    for (const auto& zone : zones) {
      const ZoneSettings* z = p_.zone(zone);
      if (!z || uncovered(opened(p_, *z), port, port, proto).empty()) continue;
      items.push_back(std::to_string(port) + "/" + proto + " in zone " + zone);
      remedies.push_back("firewall-cmd --permanent --zone=" + zone +
                         " --add-port=" + std::to_string(port) + "/" + proto + kReload);
    }
    if (items.empty()) return;
    add(c, sev, items, remedies,
        "firewalld drops " + what + " (" + std::to_string(port) + "/" + proto + ") in " +
            zones_text(zones) + rich_note(p_, zones) + ": " + impact +
            ". Fix: " + join(remedies, "; "));
  }

  void ipip() {
    if (skipped(Check::kIpip)) return skip(Check::kIpip, "ignored by config");
    if (!n_.ipip) return skip(Check::kIpip, "no IPIP device (tunl0) or IPIP peers");
    const auto zones = zones_for(n_.overlay_peers);
    std::vector<std::string> items, remedies;
    for (const auto& zone : zones) {
      const ZoneSettings* z = p_.zone(zone);
      if (!z || opens_protocol(opened(p_, *z), {"4", "ipencap", "ip-encap"})) continue;
      items.push_back("protocol 4 in zone " + zone);
      remedies.push_back("firewall-cmd --permanent --zone=" + zone + " --add-protocol=4" + kReload);
    }
    if (items.empty()) return;
    add(Check::kIpip, core::Severity::kWarning, items, remedies,
        "firewalld drops IPIP (IP protocol 4) in " + zones_text(zones) + rich_note(p_, zones) +
            ": pod traffic from other nodes through tunl0 is lost. Note that firewalld's "
            "protocol name \"ipip\" is protocol 94, not IPIP. Fix: " +
            join(remedies, "; "));
  }

  void pods() {
    // Pod CIDRs bound to a zone by source: that zone filters pod traffic, whatever interface.
    std::map<std::string, std::string> source_zone;  // cidr -> zone
    std::vector<std::string> unbound;
    for (const auto& c : n_.pod_cidrs) {
      if (auto z = p_.zone_of_source(c)) {
        source_zone[c] = *z;
      } else {
        unbound.push_back(c);
      }
    }
    const bool all_by_source = !n_.pod_cidrs.empty() && unbound.empty();
    cni_interfaces(all_by_source);
    if (skipped(Check::kPodForwarding)) return skip(Check::kPodForwarding, "ignored by config");
    if (n_.pod_cidrs.empty()) return skip(Check::kPodForwarding, "pod CIDRs unknown");
    std::vector<std::string> items, remedies;
    for (const auto& [cidr, zone] : source_zone) {
      const ZoneSettings* z = p_.zone(zone);
      if (!z || z->accepts_all()) continue;
      items.push_back(cidr + " bound to zone " + zone + " (target " + z->target + ")");
      remedies.push_back("firewall-cmd --permanent --zone=" + zone + " --remove-source=" + cidr +
                         " && firewall-cmd --permanent --zone=trusted --add-source=" + cidr +
                         kReload);
    }
    if (n_.pod_traffic_on_uplink) {
      bool uplinks_accept = true;
      for (const auto& zone : uplink_zones_) {
        const ZoneSettings* z = p_.zone(zone);
        uplinks_accept = uplinks_accept && z && z->accepts_all();
      }
      if (!uplinks_accept) {
        for (const auto& cidr : unbound) {
          items.push_back(cidr + " arrives unencapsulated in zone " + join(uplink_zones_, ","));
          remedies.push_back("firewall-cmd --permanent --zone=trusted --add-source=" + cidr +
                             kReload);
        }
      }
    }
    if (items.empty()) return;
    add(Check::kPodForwarding, core::Severity::kWarning, items, remedies,
        "firewalld filters forwarded pod traffic: " + join(items, "; ") +
            ". Pods on other nodes cannot reach pods here (and the reverse) unless the pod "
            "CIDRs (" +
            n_.pod_cidrs_from + ") are bound to an accepting zone. Fix: " + join(remedies, "; "));
  }

  void cni_interfaces(bool all_by_source) {
    if (skipped(Check::kCniInterface)) return skip(Check::kCniInterface, "ignored by config");
    if (n_.interfaces.empty()) return skip(Check::kCniInterface, "node interfaces unknown");
    if (all_by_source) {
      return skip(Check::kCniInterface, "pod CIDRs are bound by source (see pod_forwarding)");
    }
    // pattern -> interfaces present that firewalld does not trust
    std::map<std::string, std::vector<std::string>> bad;
    std::vector<std::string> order;
    for (const auto& i : n_.interfaces) {
      const std::string* pattern = nullptr;
      for (const auto& p : n_.cni_patterns) {
        if (interface_matches(p, i.name)) {
          pattern = &p;
          break;
        }
      }
      if (!pattern) continue;
      const std::string zone = p_.zone_of_interface(i.name);
      const ZoneSettings* z = p_.zone(zone);
      if (!z || z->accepts_all()) continue;
      if (!bad.count(*pattern)) order.push_back(*pattern);
      bad[*pattern].push_back(i.name + " in zone " + zone + " (target " + z->target + ")");
    }
    if (bad.empty()) return;
    std::vector<std::string> items, remedies;
    for (const auto& pattern : order) {
      for (const auto& x : bad[pattern]) items.push_back(x);
      // An explicit binding elsewhere must go first: firewalld refuses two zones per interface.
      std::string remove;
      for (const auto& [zone, z] : p_.zones) {
        if (std::find(z.interfaces.begin(), z.interfaces.end(), pattern) != z.interfaces.end() &&
            !z.accepts_all()) {
          remove =
              "firewall-cmd --permanent --zone=" + zone + " --remove-interface=" + pattern + " && ";
        }
      }
      remedies.push_back(
          remove + "firewall-cmd --permanent --zone=trusted --add-interface=" + pattern + kReload);
    }
    add(Check::kCniInterface, core::Severity::kWarning, items, remedies,
        "CNI interfaces are not in an accepting zone: " + join(items, "; ") +
            ". firewalld filters what pods send through them (pod egress forwarded to other "
            "zones is rejected, pods cannot reach host services such as node-local DNS). Put "
            "them in the trusted zone: " +
            join(remedies, "; "));
  }

  void policy_drops() { policy_drop_finding(n_, r_); }

  const FirewalldPolicy& p_;
  const NodeNeeds& n_;
  std::vector<std::string> uplinks_;
  std::vector<std::string> uplink_zones_;
  ConflictReport r_;
};

}  // namespace

std::string_view check_name(Check c) {
  for (const auto& i : kChecks) {
    if (i.check == c) return i.name;
  }
  return "unknown";
}

std::string_view condition_type(Check c) {
  for (const auto& i : kChecks) {
    if (i.check == c) return i.condition;
  }
  return "";
}

std::optional<Check> parse_check(std::string_view name) {
  for (const auto& i : kChecks) {
    if (i.name == name) return i.check;
  }
  return std::nullopt;
}

const std::vector<Check>& all_checks() {
  static const std::vector<Check> all = [] {
    std::vector<Check> v;
    for (const auto& i : kChecks) v.push_back(i.check);
    return v;
  }();
  return all;
}

const Finding* ConflictReport::find(Check c) const {
  for (const auto& f : findings) {
    if (f.check == c) return &f;
  }
  return nullptr;
}

ConflictReport judge(const FirewalldPolicy& policy, const NodeNeeds& needs) {
  return Judge(policy, needs).run();
}

ConflictReport judge_policy_drops(const NodeNeeds& needs) {
  ConflictReport r;
  policy_drop_finding(needs, r);
  return r;
}

}  // namespace ng::netfilter::firewalld
