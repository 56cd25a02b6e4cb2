#pragma once

#include <memory>

#include <grpcpp/security/server_credentials.h>

#include "agent/api/call_gate.h"
#include "agent/config/agent_config.h"
#include "core/result.h"

namespace ng::agent {

// The TLS listener's credentials: server certificate and key, and with api.tls_client_ca
// mutual TLS (GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY). The files are
// checked now (clear errors at start-up) and then watched: gRPC re-reads them every
// api.tls_reload_interval and new connections get the new ones, no restart. Every call is
// authorized by a TlsAuthProcessor asking `gate`.
core::Result<std::shared_ptr<grpc::ServerCredentials>> make_tls_server_credentials(
    const ApiConfig& api, CallGate& gate);

}  // namespace ng::agent
