#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "netfilter/firewalld/dbus_value.h"

namespace ng::netfilter::firewalld {

// A port or port range with its protocol, as firewalld lists them ("30000-32767", "tcp").
struct PortSpec {
  int first = 0;
  int last = 0;
  std::string protocol;  // tcp | udp | sctp | dccp
  bool covers(int port, const std::string& proto) const {
    return proto == protocol && port >= first && port <= last;
  }
  std::string str() const;  // "30000-32767/tcp", "179/tcp"
};

// "22" / "30000-32767" + "tcp"; nullopt when not a port or range.
std::optional<PortSpec> parse_port_spec(const std::string& port, const std::string& protocol);

// One firewalld service's runtime definition (what getServiceSettings2 returns).
struct ServiceDef {
  std::string name;
  std::vector<PortSpec> ports;
  std::vector<std::string> protocols;  // "ipip", "4", "vrrp"
  std::vector<std::string> includes;   // other services this one includes (firewalld >= 0.9)
};

// One zone's runtime settings (getZoneSettings2); only what the conflict rules read.
struct ZoneSettings {
  std::string name;
  std::string target = "default";  // default | ACCEPT | DROP | %%REJECT%%
  std::vector<std::string> interfaces;
  std::vector<std::string> sources;  // CIDRs, addresses, MACs or ipset:NAME
  std::vector<PortSpec> ports;
  std::vector<std::string> services;
  std::vector<std::string> protocols;
  std::vector<std::string> rich_rules;
  bool masquerade = false;
  bool forward = false;  // intra-zone forwarding (firewalld >= 1.0)
  bool accepts_all() const { return target == "ACCEPT"; }
};

// What firewalld told us, in one piece: the input of the conflict rules. Built by PolicyQuery
// from D-Bus answers; tests build it from recorded answers.
struct FirewalldPolicy {
  std::string version;       // "1.3.3"
  std::string backend;       // nftables | iptables | "" (firewalld too old to say)
  std::string default_zone;  // "public"
  bool panic_mode = false;
  // Zones with interfaces or sources bound (getActiveZones), name -> bound interfaces/sources.
  std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> active;
  std::map<std::string, ZoneSettings> zones;   // every zone queried (default + active)
  std::map<std::string, ServiceDef> services;  // every service those zones use
  std::vector<std::string> problems;           // answers that did not decode (skipped)

  const ZoneSettings* zone(const std::string& name) const;
  const ServiceDef* service(const std::string& name) const;
  // The zone firewalld puts traffic from this interface in: an exact binding, else the longest
  // matching '+' wildcard binding, else the default zone.
  std::string zone_of_interface(const std::string& ifname) const;
  // The zone bound to a source range containing `address` (IPv4/IPv6 text), if any.
  std::optional<std::string> zone_of_source(const std::string& address) const;
  // Zone names in the order the query asks for them: default first, then active ones.
  std::vector<std::string> zone_names() const;
};

// firewalld's interface wildcard: "cali+" matches every name starting with "cali".
bool interface_matches(const std::string& pattern, const std::string& ifname);

// Decoders of firewalld's D-Bus answers: pure functions, unit-tested against recorded answers.
// getZoneSettings2 (a{sv}, firewalld >= 0.9) and getZoneSettings (the older tuple).
core::Result<ZoneSettings> decode_zone_settings(const std::string& zone, const DbusValue& v);
// getServiceSettings2 (a{sv}) and getServiceSettings (the older tuple).
core::Result<ServiceDef> decode_service_settings(const std::string& name, const DbusValue& v);
// getActiveZones: a{sa{sas}} -> zone -> (interfaces, sources).
core::Result<std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>>>
decode_active_zones(const DbusValue& v);

}  // namespace ng::netfilter::firewalld
