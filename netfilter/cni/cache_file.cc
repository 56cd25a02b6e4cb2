#include "netfilter/cni/cache_file.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "core/ip_prefix.h"
#include "netfilter/save_codec.h"

namespace ng::netfilter::cni {

namespace {

using json = nlohmann::json;

constexpr char kCacheV1[] = "cniCacheV1";

struct Bad {
  std::string message;
};

// Go's encoding/json leaves a field at its zero value for null or when absent; a value of another
// type is an error (the runtime would not have written it).
const json* field(const json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string string_field(const json& obj, const char* name, const std::string& path) {
  const json* v = field(obj, name);
  if (!v) return {};
  if (!v->is_string())
    throw Bad{"\"" + path + name + "\" is a " + v->type_name() + ", not a string"};
  return v->get<std::string>();
}

std::int64_t int_field(const json& obj, const char* name, const std::string& path) {
  const json* v = field(obj, name);
  if (!v) return 0;
  if (v->is_number_integer()) return v->get<std::int64_t>();
  if (v->is_number_unsigned()) {
    const auto u = v->get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(u);
  }
  throw Bad{"\"" + path + name + "\" is not an integer: " + v->dump()};
}

std::vector<PortMapping> parse_port_mappings(const json& v) {
  if (!v.is_array()) throw Bad{"\"capabilityArgs.portMappings\" is not an array"};
  std::vector<PortMapping> out;
  for (size_t i = 0; i < v.size(); ++i) {
    const json& e = v[i];
    const std::string path = "capabilityArgs.portMappings[" + std::to_string(i) + "].";
    if (!e.is_object()) throw Bad{"\"" + path.substr(0, path.size() - 1) + "\" is not an object"};
    PortMapping m;
    m.host_port = int_field(e, "hostPort", path);
    m.container_port = int_field(e, "containerPort", path);
    m.protocol = string_field(e, "protocol", path);
    m.host_ip = string_field(e, "hostIP", path);
    out.push_back(std::move(m));
  }
  return out;
}

void check_address(const std::string& address, const std::string& path) {
  if (!core::IpPrefix::parse(address, /*allow_host_bits=*/true)) {
    throw Bad{"\"" + path + "\" is not an address with a prefix: \"" + address + "\""};
  }
}

void parse_result(const json& r, CacheEntry& e) {
  if (!r.is_object()) throw Bad{"\"result\" is not an object"};
  e.result_version = string_field(r, "cniVersion", "result.");
  if (const json* ifs = field(r, "interfaces")) {
    if (!ifs->is_array()) throw Bad{"\"result.interfaces\" is not an array"};
    for (size_t i = 0; i < ifs->size(); ++i) {
      const json& x = (*ifs)[i];
      const std::string path = "result.interfaces[" + std::to_string(i) + "].";
      if (!x.is_object()) throw Bad{"\"" + path.substr(0, path.size() - 1) + "\" is not an object"};
      e.interfaces.push_back({string_field(x, "name", path), string_field(x, "sandbox", path)});
    }
  }
  if (const json* ips = field(r, "ips")) {
    if (!ips->is_array()) throw Bad{"\"result.ips\" is not an array"};
    for (size_t i = 0; i < ips->size(); ++i) {
      const json& x = (*ips)[i];
      const std::string path = "result.ips[" + std::to_string(i) + "].";
      if (!x.is_object()) throw Bad{"\"" + path.substr(0, path.size() - 1) + "\" is not an object"};
      ResultIp ip;
      ip.address = string_field(x, "address", path);
      check_address(ip.address, path + "address");
      if (field(x, "interface")) ip.interface = int_field(x, "interface", path);
      e.ips.push_back(std::move(ip));
    }
  }
  // Results of spec 0.1.0/0.2.0 carry one address per family and no interfaces.
  for (const char* fam : {"ip4", "ip6"}) {
    const json* v = field(r, fam);
    if (!v) continue;
    const std::string path = std::string("result.") + fam + ".";
    if (!v->is_object()) throw Bad{"\"result." + std::string(fam) + "\" is not an object"};
    ResultIp ip;
    ip.address = string_field(*v, "ip", path);
    check_address(ip.address, path + "ip");
    e.ips.push_back(std::move(ip));
  }
}

// ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$
bool valid_id(const std::string& s) {
  if (s.empty() || !std::isalnum(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '.' || c == '-';
  });
}

bool valid_ifname(const std::string& s) {
  if (s.empty() || s.size() > 15 || s == "." || s == "..") return false;
  return std::none_of(s.begin(), s.end(), [](unsigned char c) {
    return c == '/' || c == ':' || std::isspace(c) || c == 0;
  });
}

// A file written by libcni before cniCacheV1 (0.7 and older) is the bare result.
bool looks_like_bare_result(const json& doc) {
  return doc.contains("cniVersion") && (doc.contains("ips") || doc.contains("ip4") ||
                                        doc.contains("ip6") || doc.contains("interfaces"));
}

CacheEntry parse_v1(const json& doc) {
  CacheEntry e;
  e.container_id = string_field(doc, "containerId", "");
  e.network_name = string_field(doc, "networkName", "");
  e.if_name = string_field(doc, "ifName", "");
  if (e.container_id.empty()) throw Bad{"\"containerId\" is missing"};
  if (e.network_name.empty()) throw Bad{"\"networkName\" is missing"};
  if (e.if_name.empty()) throw Bad{"\"ifName\" is missing"};
  // libcni validates these before an ADD (utils.ValidateContainerID, ValidateNetworkName,
  // ValidateInterfaceName); other values were not written by it.
  if (!valid_id(e.container_id)) throw Bad{"\"containerId\" has characters libcni refuses"};
  if (!valid_id(e.network_name)) throw Bad{"\"networkName\" has characters libcni refuses"};
  if (!valid_ifname(e.if_name)) throw Bad{"\"ifName\" is not a valid interface name"};
  if (const json* c = field(doc, "config")) {
    // Go encodes []byte as standard base64.
    if (!c->is_string()) throw Bad{"\"config\" is not a base64 string"};
    auto decoded = base64_decode(c->get<std::string>());
    if (!decoded) throw Bad{"\"config\" is not valid base64: " + decoded.error().message};
    e.config = std::move(*decoded);
  }
  e.netns = string_field(doc, "netns", "");
  if (const json* args = field(doc, "cniArgs")) {
    if (!args->is_array()) throw Bad{"\"cniArgs\" is not an array of pairs"};
    for (const auto& p : *args) {
      if (!p.is_array() || p.size() != 2 || !p[0].is_string() || !p[1].is_string()) {
        throw Bad{"\"cniArgs\" holds something other than [name, value] pairs: " + p.dump()};
      }
      e.cni_args.emplace_back(p[0].get<std::string>(), p[1].get<std::string>());
    }
  }
  if (const json* caps = field(doc, "capabilityArgs")) {
    if (!caps->is_object()) throw Bad{"\"capabilityArgs\" is not an object"};
    if (const json* pm = field(*caps, "portMappings")) e.port_mappings = parse_port_mappings(*pm);
  }
  if (const json* r = field(doc, "result")) parse_result(*r, e);
  return e;
}

}  // namespace

std::string_view to_string(SkipReason r) {
  switch (r) {
    case SkipReason::kMalformed:
      return "malformed";
    case SkipReason::kTruncated:
      return "truncated";
    case SkipReason::kForeignVersion:
      return "foreign_version";
    case SkipReason::kLegacyLayout:
      return "legacy_layout";
    case SkipReason::kTooLarge:
      return "too_large";
    case SkipReason::kUnreadable:
      return "unreadable";
  }
  return "unknown";
}

std::string CacheEntry::netns_path() const {
  if (!netns.empty()) return netns;
  for (const auto& i : interfaces) {
    if (i.name == if_name && !i.sandbox.empty()) return i.sandbox;
  }
  for (const auto& i : interfaces) {
    if (!i.sandbox.empty()) return i.sandbox;
  }
  return {};
}

std::string CacheEntry::key() const {
  return network_name + "/" + container_id + "/" + if_name;
}

std::variant<CacheEntry, CacheFileError> parse_cache_file(std::string_view bytes) {
  if (bytes.size() > kMaxCacheFileBytes) {
    return CacheFileError{SkipReason::kTooLarge,
                          std::to_string(bytes.size()) + " bytes, more than the " +
                              std::to_string(kMaxCacheFileBytes) + " a cache file can hold"};
  }
  if (bytes.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return CacheFileError{SkipReason::kTruncated, "empty file"};
  }
  json doc;
  try {
    doc = json::parse(bytes.begin(), bytes.end());
  } catch (const json::parse_error& e) {
    const std::string what = e.what();
    // The parser read to the end and wanted more: the document was cut (a write in progress,
    // a full disk), as opposed to bytes that are wrong before the end.
    const bool at_end = e.byte >= bytes.size();
    return CacheFileError{at_end ? SkipReason::kTruncated : SkipReason::kMalformed,
                          std::string(at_end ? "JSON ends early: " : "not JSON: ") + what};
  } catch (const json::exception& e) {
    // out_of_range: a number too large for a double (found by the cni_cache fuzzer).
    return CacheFileError{SkipReason::kMalformed, std::string("not JSON: ") + e.what()};
  }
  if (!doc.is_object()) {
    return CacheFileError{SkipReason::kMalformed,
                          std::string("a JSON ") + doc.type_name() + ", not an object"};
  }
  try {
    const json* kind = field(doc, "kind");
    if (!kind) {
      if (looks_like_bare_result(doc)) {
        return CacheFileError{SkipReason::kLegacyLayout,
                              "a bare CNI result (libcni before 0.8): no network config or port "
                              "mappings to rebuild from"};
      }
      return CacheFileError{SkipReason::kMalformed, "no \"kind\": not a libcni cache file"};
    }
    if (!kind->is_string()) {
      return CacheFileError{SkipReason::kMalformed, "\"kind\" is not a string"};
    }
    if (kind->get<std::string>() != kCacheV1) {
      return CacheFileError{SkipReason::kForeignVersion, "kind \"" + kind->get<std::string>() +
                                                             "\", this agent reads " + kCacheV1};
    }
    return parse_v1(doc);
  } catch (const Bad& b) {
    return CacheFileError{SkipReason::kMalformed, b.message};
  } catch (const json::exception& e) {
    return CacheFileError{SkipReason::kMalformed, e.what()};
  }
}

}  // namespace ng::netfilter::cni
