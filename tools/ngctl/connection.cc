#include "tools/ngctl/connection.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

namespace ng::ngctl {
namespace {

bool read_file(const std::string& path, std::string* out, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read " + path;
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

}  // namespace

std::string ClientOptions::target() const {
  return addr.empty() ? "unix://" + socket : addr;
}

void add_client_flags(CLI::App& app, ClientOptions& opts, std::string& timeout_text) {
  const std::string g = "Connection";
  app.add_option("--socket", opts.socket, "Agent unix socket")
      ->envname("NGCTL_SOCKET")
      ->capture_default_str()
      ->group(g);
  app.add_option("--addr", opts.addr, "Agent TCP address HOST:PORT (TLS); wins over --socket")
      ->envname("NGCTL_ADDR")
      ->group(g);
  app.add_option("--timeout", timeout_text, "Deadline per call, e.g. 2s or 500ms")
      ->capture_default_str()
      ->group(g);
  app.add_option("-o,--output", opts.output, "Output format: table (people) or json (scripts)")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str()
      ->group(g);
  const std::string t = "TLS (with --addr)";
  app.add_option("--tls-ca", opts.tls_ca, "CA bundle that signed the agent's certificate")
      ->envname("NGCTL_TLS_CA")
      ->group(t);
  app.add_option("--tls-cert", opts.tls_cert, "Client certificate for mutual TLS")
      ->envname("NGCTL_TLS_CERT")
      ->group(t);
  app.add_option("--tls-key", opts.tls_key, "Client private key for mutual TLS")
      ->envname("NGCTL_TLS_KEY")
      ->group(t);
  app.add_option("--tls-server-name", opts.tls_server_name,
                 "Name to verify in the agent's certificate (default: the host in --addr)")
      ->group(t);
}

std::shared_ptr<grpc::Channel> make_channel(const ClientOptions& opts, const std::string& addr,
                                            std::string* error) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  if (addr.empty()) {
    return grpc::CreateCustomChannel("unix://" + opts.socket, grpc::InsecureChannelCredentials(),
                                     args);
  }
  grpc::SslCredentialsOptions ssl;
  if (!opts.tls_ca.empty() && !read_file(opts.tls_ca, &ssl.pem_root_certs, error)) return nullptr;
  if (!opts.tls_cert.empty() && !read_file(opts.tls_cert, &ssl.pem_cert_chain, error)) {
    return nullptr;
  }
  if (!opts.tls_key.empty() && !read_file(opts.tls_key, &ssl.pem_private_key, error)) {
    return nullptr;
  }
  if (!opts.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(opts.tls_server_name);
  }
  return grpc::CreateCustomChannel(addr, grpc::SslCredentials(ssl), args);
}

void set_deadline(grpc::ClientContext& ctx, std::chrono::milliseconds timeout) {
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
}

int report_rpc_failure(const grpc::Status& status, const std::string& target) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      std::cerr << "ngctl: cannot reach nodeguard at " << target << ": " << status.error_message()
                << " (is the agent running? use --socket PATH or --addr HOST:PORT)\n";
      return kExitUnreachable;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      std::cerr << "ngctl: nodeguard at " << target
                << " refused the call: " << status.error_message()
                << " (check --tls-cert/--tls-key or your uid)\n";
      return kExitRpcError;
    default:
      std::cerr << "ngctl: nodeguard at " << target
                << " answered with an error: " << status.error_message() << " (code "
                << status.error_code() << ")\n";
      return kExitRpcError;
  }
}

}  // namespace ng::ngctl
