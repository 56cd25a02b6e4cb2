#pragma once

#include <grpcpp/security/auth_metadata_processor.h>

#include "agent/api/call_gate.h"

namespace ng::agent {

// Runs on every call that arrives on the TLS listener, for every service, before the call is
// matched to a handler: a refusal here means no handler code runs. Reads the method from
// ":path" and the client identity from the TLS auth context, then asks the CallGate:
// authorization, then the unary rate limit or the stream limit.
class TlsAuthProcessor final : public grpc::AuthMetadataProcessor {
 public:
  explicit TlsAuthProcessor(CallGate& gate) : gate_(gate) {}

  // Cheap and non-blocking: runs inline on the gRPC thread that read the headers.
  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  CallGate& gate_;
};

// The identities a TLS peer proved, by field: DNS SANs, URI SANs, subject CN.
TlsPeer tls_peer_from(const grpc::AuthContext& context);

}  // namespace ng::agent
