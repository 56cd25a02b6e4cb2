#pragma once

#include <chrono>
#include <string>

#include "tools/ngctl/connection.h"

namespace ng::ngctl {

// Why a connection failed, found out after gRPC said only "UNAVAILABLE: Socket closed".
// An agent that refuses a client (mutual TLS without a good certificate, a unix-socket uid not
// in api.allowed_uids) closes the connection before any gRPC status can be sent, which looks
// the same as an agent that is down. These probes tell the two apart.
struct Diagnosis {
  bool refused = false;  // the agent is there and refused us (exit 3, not 1)
  std::string reason;    // one line for people; empty when nothing more is known
};

// A TLS handshake with OpenSSL using the same CA, certificate, key and server name as the
// channel, then one read so TLS 1.3 post-handshake alerts ("certificate required") arrive.
Diagnosis diagnose_tls(const ClientOptions& opts, const std::string& addr,
                       std::chrono::milliseconds timeout);

// Connects to the unix socket: permission denied by the file mode, nobody listening, or the
// agent closing the connection at once (peer uid refused).
Diagnosis diagnose_unix(const std::string& path, std::chrono::milliseconds timeout);

}  // namespace ng::ngctl
