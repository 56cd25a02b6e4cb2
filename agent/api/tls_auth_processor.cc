#include "agent/api/tls_auth_processor.h"

#include <algorithm>

namespace ng::agent {

TlsPeer tls_peer_from(const grpc::AuthContext& context) {
  TlsPeer peer;
  peer.verified = context.IsPeerAuthenticated();
  for (const char* property : {"x509_subject_alternative_name", "x509_common_name"}) {
    for (const auto& v : context.FindPropertyValues(property)) {
      std::string id(v.data(), v.size());
      if (std::find(peer.identities.begin(), peer.identities.end(), id) == peer.identities.end()) {
        peer.identities.push_back(std::move(id));
      }
    }
  }
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
