#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ng::agent {

// Which field of a verified client certificate an allowed identity names. Each is matched
// only against its own field: a CN never satisfies a dns: entry, a DNS SAN never a cn: entry.
enum class IdentityField { kDns, kUri, kCn };

// One entry of api.allowed_clients / api.allowed_log_clients: "dns:NAME",
// "uri:spiffe://cluster.local/ns/NS/sa/SA" or "cn:NAME".
struct ClientIdentity {
  IdentityField field = IdentityField::kDns;
  std::string value;
  bool operator==(const ClientIdentity&) const = default;
};

// nullopt when untyped, of an unknown type, or empty after the prefix.
std::optional<ClientIdentity> parse_client_identity(std::string_view text);
std::string to_string(const ClientIdentity& id);

// The config check for one list entry: the reason in words, with the typed spelling.
std::optional<std::string> client_identity_error(const std::string& text);

// Parses a validated list; entries that do not parse are dropped (never match anything).
std::vector<ClientIdentity> parse_client_identities(const std::vector<std::string>& texts);

// What TLS proved about a TCP caller, each certificate field kept apart.
struct TlsPeer {
  bool verified = false;                  // presented a certificate the client CA verified
  std::vector<std::string> dns_sans;      // subjectAltName DNS entries
  std::vector<std::string> uri_sans;      // subjectAltName URI entries (SPIFFE IDs)
  std::vector<std::string> common_names;  // subject CN

  // Whether any of `allowed` names exactly this peer's value of that field.
  bool matches_any(const std::vector<ClientIdentity>& allowed) const;
  // "dns:a, uri:b, cn:c": for error messages.
  std::string describe() const;
};

}  // namespace ng::agent
