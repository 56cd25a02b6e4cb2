#include "agent/api/tls_server_credentials.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "agent/api/tls_auth_processor.h"
#include "agent/api/tls_files.h"

namespace ng::agent {

// The TLS listener's credentials: certificate, key and client CA come from a file watcher, so
// a renewed certificate (cert-manager rotating a Secret) is served without a restart.
core::Result<std::shared_ptr<grpc::ServerCredentials>> make_tls_server_credentials(
    const ApiConfig& api, CallGate& gate) {
  // Fail at start-up, with the file and the reason, rather than on the first handshake.
  if (auto facts = inspect_key_pair(api.tls_cert, api.tls_key); !facts) return facts.error();
  if (!api.tls_client_ca.empty()) {
    if (auto ca = inspect_ca_bundle(api.tls_client_ca); !ca) return ca.error();
  }
  const auto refresh = static_cast<unsigned>(std::max<long long>(
      1, std::chrono::duration_cast<std::chrono::seconds>(api.tls_reload_interval).count()));
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      api.tls_key, api.tls_cert, api.tls_client_ca, refresh);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (api.tls_client_ca.empty()) {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    options.watch_root_certs();
    // Mutual TLS. A certificate the client CA did not sign ends the handshake. A client with
    // no certificate completes it but every call is refused by the CallGate with
    // UNAUTHENTICATED, so callers get a status that says why instead of a closed socket.
    options.set_cert_request_type(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  auto creds = grpc::experimental::TlsServerCredentials(options);
  if (!creds) {
    return core::EnvError{core::EnvErrorKind::kInvalidInput,
                          "gRPC refused the TLS options (see the gRPC log line above)"};
  }
  creds->SetAuthMetadataProcessor(std::make_shared<TlsAuthProcessor>(gate));
  return creds;
}

}  // namespace ng::agent
