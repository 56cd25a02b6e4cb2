#include "agent/api/grpc_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include "core/files.h"

namespace ng::agent {
namespace {

core::Result<std::string> read_pem(const std::string& path) {
  core::PosixFiles files;
  return files.read(path);
}

std::string parent_dir(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

GrpcServer::GrpcServer(const AgentConfig& config, core::Logger log)
    : config_(config), log_(std::move(log)) {}

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
  builder.SetMaxReceiveMessageSize(static_cast<int>(config_.api.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(config_.api.max_message_bytes));
  for (auto* s : services_) builder.RegisterService(s);

  if (!config_.grpc_socket.empty()) {
    core::PosixFiles files;
    if (auto st = files.make_dirs(parent_dir(config_.grpc_socket)); !st) return st.error();
    builder.AddListeningPort("unix:" + config_.grpc_socket, grpc::InsecureServerCredentials());
  }
  if (!config_.grpc_listen.empty()) {
    auto cert = read_pem(config_.api.tls_cert);
    if (!cert) return cert.error();
    auto key = read_pem(config_.api.tls_key);
    if (!key) return key.error();
    grpc::SslServerCredentialsOptions opts;
    opts.pem_key_cert_pairs.push_back({*key, *cert});
    if (!config_.api.tls_client_ca.empty()) {
      auto ca = read_pem(config_.api.tls_client_ca);
      if (!ca) return ca.error();
      opts.pem_root_certs = *ca;
      opts.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    builder.AddListeningPort(config_.grpc_listen, grpc::SslServerCredentials(opts), &tcp_port_);
  }
  // The socket is created with mode 0600 from birth: no window where others could connect.
  const mode_t old_mask = ::umask(0177);
  server_ = builder.BuildAndStart();
  ::umask(old_mask);
  if (!server_) {
    return core::EnvError{core::EnvErrorKind::kUnavailable,
                          "gRPC server failed to start (socket " + config_.grpc_socket +
                              ", listen " + config_.grpc_listen + "): address in use or denied"};
  }
  if (!config_.grpc_socket.empty()) ::chmod(config_.grpc_socket.c_str(), 0600);
  return core::Ok{};
}

void GrpcServer::shutdown(std::chrono::milliseconds grace) {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
  server_.reset();
  if (!config_.grpc_socket.empty()) ::unlink(config_.grpc_socket.c_str());
}

}  // namespace ng::agent
