#include "agent/api/tls_auth_processor.h"

#include <grpc/grpc_security_constants.h>

#include <algorithm>

namespace ng::agent {

TlsPeer tls_peer_from(const grpc::AuthContext& context) {
  TlsPeer peer;
  peer.verified = context.IsPeerAuthenticated();
  // Each field from its own property: "x509_subject_alternative_name" lists DNS, URI, email
  // and IP SANs together, so it is never used.
  const auto read = [&](const char* property, std::vector<std::string>& out) {
    for (const auto& v : context.FindPropertyValues(property)) {
      std::string value(v.data(), v.size());
      if (std::find(out.begin(), out.end(), value) == out.end()) out.push_back(std::move(value));
    }
  };
  read(GRPC_PEER_DNS_PROPERTY_NAME, peer.dns_sans);
  read(GRPC_PEER_URI_PROPERTY_NAME, peer.uri_sans);
  read(GRPC_X509_CN_PROPERTY_NAME, peer.common_names);
  return peer;
}

grpc::Status TlsAuthProcessor::Process(const InputMetadata& auth_metadata,
                                       grpc::AuthContext* context, OutputMetadata*,
                                       OutputMetadata*) {
  std::string method;
  if (auto it = auth_metadata.find(":path"); it != auth_metadata.end()) {
    method.assign(it->second.data(), it->second.size());
  }
  const TlsPeer peer = context ? tls_peer_from(*context) : TlsPeer{};
  if (auto st = gate_.authorize_tls(peer, method); !st.ok()) return st;
  // Stream slots are taken by CallGateInterceptor, which also sees the stream end; here only
  // a full house is refused early, with a clear status and before any handler runs.
  if (method_traits(method).streaming) return gate_.check_stream_room();
  return gate_.take_unary_token();
}

}  // namespace ng::agent
