#include "agent/api/client_identity.h"

#include <algorithm>

namespace ng::agent {
namespace {

struct Prefix {
  std::string_view text;
  IdentityField field;
};
constexpr Prefix kPrefixes[] = {
    {"dns:", IdentityField::kDns}, {"uri:", IdentityField::kUri}, {"cn:", IdentityField::kCn}};

const std::vector<std::string>& values_of(const TlsPeer& peer, IdentityField f) {
  switch (f) {
    case IdentityField::kDns:
      return peer.dns_sans;
    case IdentityField::kUri:
      return peer.uri_sans;
    case IdentityField::kCn:
      return peer.common_names;
  }
  return peer.common_names;
}

}  // namespace

std::optional<ClientIdentity> parse_client_identity(std::string_view text) {
  for (const auto& p : kPrefixes) {
    if (text.size() > p.text.size() && text.substr(0, p.text.size()) == p.text) {
      return ClientIdentity{p.field, std::string(text.substr(p.text.size()))};
    }
  }
  return std::nullopt;
}

std::string to_string(const ClientIdentity& id) {
  for (const auto& p : kPrefixes) {
    if (p.field == id.field) return std::string(p.text) + id.value;
  }
  return id.value;
}

std::optional<std::string> client_identity_error(const std::string& text) {
  if (parse_client_identity(text)) return std::nullopt;
  // Suggest the spelling the operator most likely meant.
  std::string hint = "dns:" + text;
  if (text.find("://") != std::string::npos) hint = "uri:" + text;
  const auto colon = text.find(':');
  if (colon != std::string::npos && text.find("://") == std::string::npos) {
    hint = "dns:" + text.substr(colon + 1);
  }
  return "must name the certificate field it matches: dns:NAME (a DNS SAN), "
         "uri:spiffe://TRUST-DOMAIN/PATH (a URI SAN) or cn:NAME (the subject CN); got \"" +
         text + "\" (did you mean \"" + hint + "\"?)";
}

std::vector<ClientIdentity> parse_client_identities(const std::vector<std::string>& texts) {
  std::vector<ClientIdentity> out;
  for (const auto& t : texts) {
    if (auto id = parse_client_identity(t)) out.push_back(std::move(*id));
  }
  return out;
}

bool TlsPeer::matches_any(const std::vector<ClientIdentity>& allowed) const {
  if (!verified) return false;
  for (const auto& a : allowed) {
    const auto& values = values_of(*this, a.field);
    if (std::find(values.begin(), values.end(), a.value) != values.end()) return true;
  }
  return false;
}

std::string TlsPeer::describe() const {
  std::string out;
  for (auto f : {IdentityField::kDns, IdentityField::kUri, IdentityField::kCn}) {
    for (const auto& v : values_of(*this, f)) {
      out += (out.empty() ? "" : ", ") + to_string(ClientIdentity{f, v});
    }
  }
  return out.empty() ? "no identity" : out;
}

}  // namespace ng::agent
