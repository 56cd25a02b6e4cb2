#include "agent/api/grpc_server.h"

#include <unistd.h>

#include <algorithm>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_builder.h>

#include "agent/api/call_gate_interceptor.h"
#include "agent/api/tls_server_credentials.h"

namespace ng::agent {
GrpcServer::GrpcServer(const AgentConfig& config, CallGate& gate, core::Logger log)
    : config_(config), gate_(gate), log_(std::move(log)) {}

GrpcServer::~GrpcServer() {
  shutdown(std::chrono::milliseconds(0));
}

std::string GrpcServer::unix_target() const {
  return config_.grpc_socket.empty() ? "" : "unix://" + config_.grpc_socket;
}

core::Status GrpcServer::start() {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // Bigger requests are refused with RESOURCE_EXHAUSTED before they are parsed.
  builder.SetMaxReceiveMessageSize(static_cast<int>(config_.api.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(config_.api.max_message_bytes));
  // Find dead watchers (a controller that vanished without closing its stream).
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  for (auto* s : services_) builder.RegisterService(s);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> gates;
  gates.push_back(std::make_unique<CallGateInterceptorFactory>(gate_));
  builder.experimental().SetInterceptorCreators(std::move(gates));

  if (!config_.grpc_socket.empty()) {
    // The socket is the agent's (mode 0600): its own uid is always allowed, as the owner.
    auto uids = parse_uids(config_.api.allowed_uids);
    if (std::find(uids.begin(), uids.end(), ::geteuid()) == uids.end()) {
      uids.push_back(::geteuid());
    }
    unix_ = std::make_unique<UnixSocketListener>(config_.grpc_socket, std::move(uids), gate_, log_);
    if (auto st = unix_->bind(); !st) {
      unix_.reset();
      return st.error();
    }
  }
  if (!config_.grpc_listen.empty()) {
    auto creds = make_tls_server_credentials(config_.api, gate_);
    if (!creds) return creds.error();
    builder.AddListeningPort(config_.grpc_listen, *creds, &tcp_port_);
  }
  server_ = builder.BuildAndStart();
  if (!server_ || (!config_.grpc_listen.empty() && tcp_port_ == 0)) {
    server_.reset();
    if (unix_) unix_->stop();
    unix_.reset();
    return core::EnvError{core::EnvErrorKind::kUnavailable, "gRPC server failed to start on " +
                                                                config_.grpc_listen +
                                                                ": address in use or not allowed"};
  }
  if (unix_) unix_->start(server_.get());
  return core::Ok{};
}

void GrpcServer::shutdown(std::chrono::milliseconds grace) {
  // No new local connections once shutdown begins.
  if (unix_) unix_->stop();
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
  server_.reset();
}

}  // namespace ng::agent
