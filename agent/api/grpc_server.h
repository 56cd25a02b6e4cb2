#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/server.h>
#include <grpcpp/support/channel_arguments.h>

#include "agent/config/agent_config.h"
#include "core/log.h"
#include "core/result.h"

namespace grpc {
class Service;
}

namespace ng::agent {

// The gRPC server: our services plus grpc.health.v1.Health and server reflection (so grpcurl
// works), on a unix socket (mode 0600) and optionally a TLS-only TCP port.
class GrpcServer {
 public:
  GrpcServer(const AgentConfig& config, core::Logger log);
  ~GrpcServer();

  void add_service(grpc::Service* service) { services_.push_back(service); }
  core::Status start();
  // Stops accepting, cancels calls still running after `grace`. Safe to call twice.
  void shutdown(std::chrono::milliseconds grace);

  int tcp_port() const { return tcp_port_; }
  std::string unix_target() const;

 private:
  const AgentConfig& config_;
  core::Logger log_;
  std::vector<grpc::Service*> services_;
  std::unique_ptr<grpc::Server> server_;
  int tcp_port_ = 0;
};

}  // namespace ng::agent
