#include "netfilter/cni/portmap_conf.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <tuple>

#include <nlohmann/json.hpp>

namespace ng::netfilter::cni {

namespace {

using json = nlohmann::json;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Go's json.Unmarshal into the plugin's PortMapConf: a value of the wrong type fails the ADD.
struct Reject {
  std::string why;
};

bool opt_bool(const json& o, const char* key, bool dflt) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return dflt;
  if (!it->is_boolean()) throw Reject{std::string("\"") + key + "\" is not a boolean"};
  return it->get<bool>();
}

std::vector<std::string> opt_strings(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return {};
  if (!it->is_array()) throw Reject{std::string("\"") + key + "\" is not a list of strings"};
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string()) throw Reject{std::string("\"") + key + "\" is not a list of strings"};
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::vector<PortMapping> mappings_from(const json& v) {
  if (!v.is_array()) throw Reject{"runtimeConfig.portMappings is not a list"};
  std::vector<PortMapping> out;
  for (const auto& e : v) {
    if (!e.is_object()) throw Reject{"a port mapping is not an object"};
    PortMapping m;
    auto num = [&](const char* k) -> std::int64_t {
      auto it = e.find(k);
      if (it == e.end() || it->is_null()) return 0;
      if (!it->is_number_integer()) throw Reject{std::string("\"") + k + "\" is not an integer"};
      return it->get<std::int64_t>();
    };
    auto str = [&](const char* k) -> std::string {
      auto it = e.find(k);
      if (it == e.end() || it->is_null()) return {};
      if (!it->is_string()) throw Reject{std::string("\"") + k + "\" is not a string"};
      return it->get<std::string>();
    };
    m.host_port = num("hostPort");
    m.container_port = num("containerPort");
    m.protocol = str("protocol");
    m.host_ip = str("hostIP");
    out.push_back(std::move(m));
  }
  return out;
}

// portmap's parseConfig(): the first IPv4 and the first IPv6 address of the previous result,
// skipping addresses of interfaces that are not the container's (another name, or no sandbox).
void pick_addresses(const CacheEntry& e, PortmapInvocation& inv) {
  for (const auto& ip : e.ips) {
    const auto slash = ip.address.find('/');
    auto addr = core::IpAddress::parse(std::string_view(ip.address).substr(0, slash));
    auto net = core::IpPrefix::parse(ip.address, /*allow_host_bits=*/true);
    if (!addr || !net) continue;
    const bool v4 = addr->family == core::IpFamily::kV4;
    if ((v4 && inv.ipv4) || (!v4 && inv.ipv6)) continue;
    if (ip.interface) {
      const auto idx = *ip.interface;
      if (idx >= 0 && idx < static_cast<std::int64_t>(e.interfaces.size())) {
        const auto& itf = e.interfaces[static_cast<size_t>(idx)];
        if (itf.name != e.if_name || itf.sandbox.empty()) continue;
      }
    }
    ContainerNet cn{*addr, net->length};
    (v4 ? inv.ipv4 : inv.ipv6) = cn;
  }
}

void check_mappings(const std::vector<PortMapping>& mappings) {
  for (const auto& m : mappings) {
    const std::string what =
        std::to_string(m.host_port) + "->" + std::to_string(m.container_port) + "/" + m.protocol;
    // portmap rejects these; iptables rejects the others, failing the ADD.
    if (m.container_port <= 0 || m.host_port <= 0) {
      throw Reject{"port mapping " + what + " has a port <= 0 (portmap refuses it)"};
    }
    if (m.container_port > 65535 || m.host_port > 65535) {
      throw Reject{"port mapping " + what + " has a port above 65535 (iptables refuses it)"};
    }
    const std::string p = lower(m.protocol);
    if (p != "tcp" && p != "udp" && p != "sctp") {
      throw Reject{"port mapping " + what + ": protocol must be tcp, udp or sctp"};
    }
    if (!m.host_ip.empty()) {
      auto a = core::IpAddress::parse(m.host_ip);
      if (!a) throw Reject{"port mapping " + what + ": hostIP \"" + m.host_ip + "\" is not an IP"};
      // Go treats ::ffff:a.b.c.d as IPv4 and passes the text to iptables, which refuses it.
      if (a->family == core::IpFamily::kV6 && a->bytes[10] == 0xff && a->bytes[11] == 0xff &&
          std::all_of(a->bytes.begin(), a->bytes.begin() + 10, [](auto b) { return b == 0; })) {
        throw Reject{"port mapping " + what + ": hostIP \"" + m.host_ip +
                     "\" is IPv4-mapped (iptables refuses it)"};
      }
    }
  }
}

PortmapInvocation invocation(const json& plugin, const CacheEntry& e, const PortmapVersion& v,
                             std::string* unsupported) {
  PortmapInvocation inv;
  inv.network = e.network_name;
  inv.container_id = e.container_id;
  inv.if_name = e.if_name;
  // libcni injects runtimeConfig.portMappings only into plugins declaring the capability.
  bool injected = false;
  if (auto caps = plugin.find("capabilities"); caps != plugin.end() && caps->is_object()) {
    auto pm = caps->find("portMappings");
    injected = pm != caps->end() && pm->is_boolean() && pm->get<bool>() && e.port_mappings;
  }
  if (injected) {
    inv.mappings = *e.port_mappings;
  } else if (auto rc = plugin.find("runtimeConfig"); rc != plugin.end() && rc->is_object()) {
    if (auto pm = rc->find("portMappings"); pm != rc->end() && !pm->is_null()) {
      inv.mappings = mappings_from(*pm);
    }
  }
  auto& o = inv.options;
  o.snat = opt_bool(plugin, "snat", true);
  auto bit = plugin.find("markMasqBit");
  auto ext = plugin.find("externalSetMarkChain");
  const bool has_bit = bit != plugin.end() && !bit->is_null();
  const bool has_ext = ext != plugin.end() && !ext->is_null();
  if (has_bit && has_ext) throw Reject{"both markMasqBit and externalSetMarkChain are set"};
  if (has_bit) {
    if (!bit->is_number_integer()) throw Reject{"\"markMasqBit\" is not an integer"};
    const auto b = bit->get<std::int64_t>();
    if (b < 0 || b > 31) throw Reject{"\"markMasqBit\" must be between 0 and 31"};
    o.mark_masq_bit = static_cast<int>(b);
  }
  if (has_ext) {
    if (!ext->is_string()) throw Reject{"\"externalSetMarkChain\" is not a string"};
    o.external_set_mark_chain = ext->get<std::string>();
  }
  o.masq_all = v.has_masq_all() && opt_bool(plugin, "masqAll", false);
  o.conditions_v4 = opt_strings(plugin, "conditionsV4");
  o.conditions_v6 = opt_strings(plugin, "conditionsV6");
  if (v.has_backend_option()) {
    auto be = plugin.find("backend");
    if (be != plugin.end() && be->is_string() && be->get<std::string>() == "nftables") {
      *unsupported = "portmap uses its nftables backend (no iptables rules to rebuild)";
    }
  }
  check_mappings(inv.mappings);
  // portmap cuts a longer comment to 253 characters plus "...", which iptables refuses.
  if (21 + inv.network.size() + inv.container_id.size() > 255) {
    throw Reject{"the network name and container ID make a comment longer than iptables takes"};
  }
  pick_addresses(e, inv);
  for (auto [fam, args, name] :
       {std::tuple{core::IpFamily::kV4, &o.conditions_v4, "conditionsV4"},
        std::tuple{core::IpFamily::kV6, &o.conditions_v6, "conditionsV6"}}) {
    const bool used = fam == core::IpFamily::kV4 ? inv.ipv4.has_value() : inv.ipv6.has_value();
    if (!used || args->empty()) continue;
    auto c = render_conditions(*args, fam);
    if (!c.error.empty() && unsupported->empty()) {
      *unsupported = std::string(name) + " cannot be reproduced: " + c.error;
    }
  }
  return inv;
}

}  // namespace

PortmapPlan plan_portmap(const CacheEntry& e, const PortmapVersion& version) {
  PortmapPlan plan;
  if (!e.config) {
    plan.why_none = "no network config cached";
    return plan;
  }
  json conf;
  try {
    conf = json::parse(*e.config);
  } catch (const json::exception& x) {
    plan.invalid = std::string("\"config\" is not JSON: ") + x.what();
    return plan;
  }
  if (!conf.is_object()) {
    plan.invalid = "\"config\" is not a JSON object";
    return plan;
  }
  // AddNetworkList caches the whole conflist; AddNetwork one plugin's config, which cannot be
  // portmap (portmap refuses to run without a previous result).
  auto plugins = conf.find("plugins");
  if (plugins == conf.end() || !plugins->is_array()) {
    plan.why_none = "a single plugin config, no plugin chain";
    return plan;
  }
  try {
    for (const auto& p : *plugins) {
      if (!p.is_object()) continue;
      auto type = p.find("type");
      if (type == p.end() || !type->is_string() || type->get<std::string>() != "portmap") continue;
      std::string unsupported;
      auto inv = invocation(p, e, version, &unsupported);
      if (!unsupported.empty()) {
        plan.unsupported = unsupported;
        plan.invocations.clear();
        return plan;
      }
      if (inv.mappings.empty()) continue;  // portmap passes the result through
      if (!e.result_version) {
        plan.unsupported = "no result cached: the pod's addresses are unknown";
        plan.invocations.clear();
        return plan;
      }
      plan.invocations.push_back(std::move(inv));
    }
  } catch (const Reject& r) {
    plan.unsupported = "portmap would refuse this config: " + r.why;
    plan.invocations.clear();
    return plan;
  } catch (const json::exception& x) {
    plan.unsupported = std::string("unexpected portmap config: ") + x.what();
    plan.invocations.clear();
    return plan;
  }
  if (plan.invocations.empty()) plan.why_none = "no portmap plugin with port mappings";
  return plan;
}

Conditions render_conditions(const std::vector<std::string>& args, core::IpFamily family) {
  Conditions c;
  // Slots in the order iptables-save prints the rule header.
  std::map<char, std::string> slot;
  bool negate = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "!") {
      if (negate) return {"", "\"!\" twice"};
      negate = true;
      continue;
    }
    char which = 0;
    if (a == "-s" || a == "--source" || a == "--src") which = 's';
    if (a == "-d" || a == "--destination" || a == "--dst") which = 'd';
    if (a == "-i" || a == "--in-interface") which = 'i';
    if (a == "-o" || a == "--out-interface") which = 'o';
    if (!which) return {"", "\"" + a + "\" is not supported (only -s, -d, -i, -o)"};
    if (i + 1 >= args.size()) return {"", "\"" + a + "\" without a value"};
    if (slot.count(which)) return {"", "\"-" + std::string(1, which) + "\" given twice"};
    const std::string& val = args[++i];
    std::string shown;
    if (which == 's' || which == 'd') {
      auto p = core::IpPrefix::parse(val, /*allow_host_bits=*/true);
      if (!p || p->family() != family) {
        return {"", "\"" + val + "\" is not an address of this family"};
      }
      // iptables leaves out a match on every address.
      if (p->length == 0 && !negate) continue;
      shown = p->to_string();
    } else {
      const bool ok = !val.empty() && val.size() <= 15 &&
                      std::all_of(val.begin(), val.end(), [](unsigned char ch) {
                        return std::isalnum(ch) || ch == '.' || ch == '_' || ch == '-' ||
                               ch == '+' || ch == '@';
                      });
      if (!ok) return {"", "interface \"" + val + "\" is not supported"};
      shown = val;
    }
    slot[which] = std::string(negate ? "! " : "") + "-" + std::string(1, which) + " " + shown;
    negate = false;
  }
  if (negate) return {"", "dangling \"!\""};
  for (char k : {'s', 'd', 'i', 'o'}) {
    auto it = slot.find(k);
    if (it == slot.end()) continue;
    if (!c.header.empty()) c.header += " ";
    c.header += it->second;
  }
  return c;
}

}  // namespace ng::netfilter::cni
