#pragma once

#include "agent/api/call_gate.h"
#include "core/log.h"

namespace ng::agent {

// gRPC writes its own log lines to stderr in its own format, which breaks the agent's
// one-JSON-object-per-line log. While installed, they go through the agent's logger instead
// (gRPC errors at warn, the rest at debug). TLS handshake failures, the only trace of a client
// that mutual TLS turned away, are counted (nodeguard_api_refused_total{reason=
// "tls_handshake"}) and logged at debug, so a port scanner cannot flood the log.
// gRPC's hook is process-wide: install once, from the daemon.
void install_grpc_log_bridge(core::Logger log, CallGate* gate);
void uninstall_grpc_log_bridge();

// What the bridge does with one gRPC log line; exposed for tests.
bool is_tls_handshake_failure(const char* message);

}  // namespace ng::agent
