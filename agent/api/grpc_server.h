#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/server.h>

#include "agent/api/call_gate.h"
#include "agent/api/unix_socket_listener.h"
#include "agent/config/agent_config.h"
#include "core/log.h"
#include "core/result.h"

namespace grpc {
class Service;
}

namespace ng::agent {

// The gRPC server: our services plus grpc.health.v1.Health and server reflection (so grpcurl
// works), on a unix socket (mode 0600, peer uid checked) and optionally a TLS-only TCP port
// (mutual TLS when api.tls_client_ca is set; certificates re-read every
// api.tls_reload_interval). Every call passes the CallGate (docs/api.md, "Security").
class GrpcServer {
 public:
  GrpcServer(const AgentConfig& config, CallGate& gate, core::Logger log);
  ~GrpcServer();

  void add_service(grpc::Service* service) { services_.push_back(service); }
  core::Status start();
  // Stops accepting, cancels calls still running after `grace`. Safe to call twice.
  void shutdown(std::chrono::milliseconds grace);

  int tcp_port() const { return tcp_port_; }
  std::string unix_target() const;

 private:
  const AgentConfig& config_;
  CallGate& gate_;
  core::Logger log_;
  std::vector<grpc::Service*> services_;
  std::unique_ptr<UnixSocketListener> unix_;
  std::unique_ptr<grpc::Server> server_;
  int tcp_port_ = 0;
};

}  // namespace ng::agent
