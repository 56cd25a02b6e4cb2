#include "netfilter/firewalld/firewalld_policy.h"

#include <algorithm>
#include <charconv>

#include "core/ip_prefix.h"

namespace ng::netfilter::firewalld {

namespace {

core::EnvError invalid(const std::string& what, const std::string& why) {
  return core::EnvError{core::EnvErrorKind::kInvalidInput, what + ": " + why};
}

std::optional<int> parse_port(std::string_view s) {
  int v = -1;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0 || v > 65535) return std::nullopt;
  return v;
}

// a(ss) -> ports; an entry that is not a port (firewalld never sends one) is an error.
core::Status decode_ports(const std::string& what, const DbusValue& v, std::vector<PortSpec>& out) {
  const auto* a = v.as_array();
  if (!a) return invalid(what, "expected a(ss), got " + v.describe(80));
  for (const auto& item : a->items) {
    const auto* s = item.as_struct();
    if (!s || s->fields.size() != 2 || !s->fields[0].as_string() || !s->fields[1].as_string()) {
      return invalid(what, "expected (port, protocol), got " + item.describe(80));
    }
    auto p = parse_port_spec(*s->fields[0].as_string(), *s->fields[1].as_string());
    if (!p) return invalid(what, "not a port or range: " + item.describe(80));
    out.push_back(*p);
  }
  return core::Ok{};
}

core::Status decode_strings(const std::string& what, const DbusValue& v,
                            std::vector<std::string>& out) {
  auto s = v.as_strings();
  if (!s) return invalid(what, "expected as, got " + v.describe(80));
  out = std::move(*s);
  return core::Ok{};
}

core::Status decode_string(const std::string& what, const DbusValue& v, std::string& out) {
  const auto* s = v.as_string();
  if (!s) return invalid(what, "expected s, got " + v.describe(80));
  out = *s;
  return core::Ok{};
}

core::Status decode_bool(const std::string& what, const DbusValue& v, bool& out) {
  auto b = v.as_bool();
  if (!b) return invalid(what, "expected b, got " + v.describe(80));
  out = *b;
  return core::Ok{};
}

}  // namespace

std::string PortSpec::str() const {
  return (first == last ? std::to_string(first)
                        : std::to_string(first) + "-" + std::to_string(last)) +
         "/" + protocol;
}

std::optional<PortSpec> parse_port_spec(const std::string& port, const std::string& protocol) {
  if (protocol.empty()) return std::nullopt;
  PortSpec p;
  p.protocol = protocol;
  const auto dash = port.find('-');
  auto lo = parse_port(std::string_view(port).substr(0, dash));
  if (!lo) return std::nullopt;
  p.first = p.last = *lo;
  if (dash != std::string::npos) {
    auto hi = parse_port(std::string_view(port).substr(dash + 1));
    if (!hi || *hi < *lo) return std::nullopt;
    p.last = *hi;
  }
  return p;
}

bool interface_matches(const std::string& pattern, const std::string& ifname) {
  if (!pattern.empty() && pattern.back() == '+') {
    return ifname.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
  }
  return pattern == ifname;
}

const ZoneSettings* FirewalldPolicy::zone(const std::string& name) const {
  auto it = zones.find(name);
  return it == zones.end() ? nullptr : &it->second;
}

const ServiceDef* FirewalldPolicy::service(const std::string& name) const {
  auto it = services.find(name);
  return it == services.end() ? nullptr : &it->second;
}

std::string FirewalldPolicy::zone_of_interface(const std::string& ifname) const {
  std::string best;
  size_t best_len = 0;
  auto consider = [&](const std::string& zone, const std::vector<std::string>& interfaces) {
    for (const auto& pattern : interfaces) {
      if (pattern == ifname) {
        best = zone;
        best_len = SIZE_MAX;
        return;
      }
      if (best_len != SIZE_MAX && interface_matches(pattern, ifname) && pattern.size() > best_len) {
        best = zone;
        best_len = pattern.size();
      }
    }
  };
  for (const auto& [zone, bound] : active) consider(zone, bound.first);
  for (const auto& [name, z] : zones) {
    if (!active.count(name)) consider(name, z.interfaces);
  }
  return best.empty() ? default_zone : best;
}

std::optional<std::string> FirewalldPolicy::zone_of_source(const std::string& address) const {
  auto addr = core::IpPrefix::parse(address, true);
  if (!addr) return std::nullopt;
  std::optional<std::string> best;
  int best_len = -1;
  auto consider = [&](const std::string& zone, const std::vector<std::string>& sources) {
    for (const auto& s : sources) {
      auto net = core::IpPrefix::parse(s, true);
      if (net && net->contains(*addr) && net->length > best_len) {
        best = zone;
        best_len = net->length;
      }
    }
  };
  for (const auto& [zone, bound] : active) consider(zone, bound.second);
  for (const auto& [name, z] : zones) {
    if (!active.count(name)) consider(name, z.sources);
  }
  return best;
}

std::vector<std::string> FirewalldPolicy::zone_names() const {
  std::vector<std::string> out;
  if (!default_zone.empty()) out.push_back(default_zone);
  for (const auto& [name, _] : active) {
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

core::Result<ZoneSettings> decode_zone_settings(const std::string& zone, const DbusValue& v) {
  ZoneSettings z;
  z.name = zone;
  const std::string what = "zone " + zone;
  if (const auto* d = v.as_dict()) {
    // getZoneSettings2: absent keys mean empty or default; keys we do not judge are ignored.
    for (const auto& [k, e] : d->entries) {
      const std::string w = what + " " + k;
      core::Status st = core::Ok{};
      if (k == "target") st = decode_string(w, e, z.target);
      if (k == "interfaces") st = decode_strings(w, e, z.interfaces);
      if (k == "sources") st = decode_strings(w, e, z.sources);
      if (k == "ports") st = decode_ports(w, e, z.ports);
      if (k == "services") st = decode_strings(w, e, z.services);
      if (k == "protocols") st = decode_strings(w, e, z.protocols);
      if (k == "rules_str") st = decode_strings(w, e, z.rich_rules);
      if (k == "masquerade") st = decode_bool(w, e, z.masquerade);
      if (k == "forward") st = decode_bool(w, e, z.forward);
      if (!st) return st.error();
    }
    if (z.target.empty()) z.target = "default";
    return z;
  }
  // getZoneSettings (firewalld < 0.9): (sssbsasa(ss)asba(ssss)asasasasa(ss)b).
  const auto* s = v.as_struct();
  if (!s || s->fields.size() < 12) {
    return invalid(what, "expected a{sv} or the zone settings tuple, got " + v.describe(120));
  }
  const auto& f = s->fields;
  for (const auto& st : {decode_string(what + " target", f[4], z.target),
                         decode_strings(what + " services", f[5], z.services),
                         decode_ports(what + " ports", f[6], z.ports),
                         decode_bool(what + " masquerade", f[8], z.masquerade),
                         decode_strings(what + " interfaces", f[10], z.interfaces),
                         decode_strings(what + " sources", f[11], z.sources),
                         f.size() > 12 ? decode_strings(what + " rules", f[12], z.rich_rules)
                                       : core::Status(core::Ok{}),
                         f.size() > 13 ? decode_strings(what + " protocols", f[13], z.protocols)
                                       : core::Status(core::Ok{})}) {
    if (!st) return st.error();
  }
  if (z.target.empty()) z.target = "default";
  return z;
}

core::Result<ServiceDef> decode_service_settings(const std::string& name, const DbusValue& v) {
  ServiceDef d;
  d.name = name;
  const std::string what = "service " + name;
  if (v.as_dict()) {
    core::Status st = core::Ok{};
    if (const DbusValue* e = v.get("ports")) st = decode_ports(what + " ports", *e, d.ports);
    if (const DbusValue* e = v.get("protocols"); st && e) {
      st = decode_strings(what + " protocols", *e, d.protocols);
    }
    if (const DbusValue* e = v.get("includes"); st && e) {
      st = decode_strings(what + " includes", *e, d.includes);
    }
    if (!st) return st.error();
    return d;
  }
  // getServiceSettings: (sssa(ss)asa{ss}asa(ss)).
  const auto* s = v.as_struct();
  if (!s || s->fields.size() < 4) {
    return invalid(what, "expected a{sv} or the service settings tuple, got " + v.describe(120));
  }
  core::Status st = decode_ports(what + " ports", s->fields[3], d.ports);
  if (st && s->fields.size() > 6)
    st = decode_strings(what + " protocols", s->fields[6], d.protocols);
  if (!st) return st.error();
  return d;
}

core::Result<std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>>>
decode_active_zones(const DbusValue& v) {
  std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> out;
  const auto* d = v.as_dict();
  if (!d) return invalid("active zones", "expected a{sa{sas}}, got " + v.describe(120));
  for (const auto& [zone, bound] : d->entries) {
    if (!bound.as_dict()) {
      return invalid("active zone " + zone, "expected a{sas}, got " + bound.describe(80));
    }
    auto& entry = out[zone];
    if (const DbusValue* i = bound.get("interfaces")) {
      if (auto st = decode_strings("active zone " + zone + " interfaces", *i, entry.first); !st) {
        return st.error();
      }
    }
    if (const DbusValue* s = bound.get("sources")) {
      if (auto st = decode_strings("active zone " + zone + " sources", *s, entry.second); !st) {
        return st.error();
      }
    }
  }
  return out;
}

}  // namespace ng::netfilter::firewalld
