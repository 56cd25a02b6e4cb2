#include "tools/ngctl/connection.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tools/ngctl/diagnose.h"

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
  if (addr.empty()) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
    return grpc::CreateCustomChannel("unix://" + opts.socket, grpc::InsecureChannelCredentials(),
                                     args);
  }
  ChannelFactory factory;
  if (!factory.init(opts, error)) return nullptr;
  return factory.tls(addr, opts.tls_server_name);
}

std::shared_ptr<grpc::Channel> open_channel(const ClientOptions& opts) {
  std::string error;
  auto channel = make_channel(opts, opts.addr, &error);
  if (!channel) std::cerr << "ngctl: " << error << "\n";
  return channel;
}

bool ChannelFactory::init(const ClientOptions& opts, std::string* error) {
  if (opts.tls_cert.empty() != opts.tls_key.empty()) {
    *error = "--tls-cert and --tls-key go together";
    return false;
  }
  grpc::SslCredentialsOptions ssl;
  if (!opts.tls_ca.empty() && !read_file(opts.tls_ca, &ssl.pem_root_certs, error)) return false;
  if (!opts.tls_cert.empty() && !read_file(opts.tls_cert, &ssl.pem_cert_chain, error)) {
    return false;
  }
  if (!opts.tls_key.empty() && !read_file(opts.tls_key, &ssl.pem_private_key, error)) {
    return false;
  }
  creds_ = grpc::SslCredentials(ssl);
  return true;
}

std::shared_ptr<grpc::Channel> ChannelFactory::tls(const std::string& addr,
                                                   const std::string& server_name) const {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  // One connection per agent, not shared with other channels: fleet queries stay independent.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (!server_name.empty()) args.SetSslTargetNameOverride(server_name);
  return grpc::CreateCustomChannel(addr, creds_, args);
}

bool connect_now(grpc::Channel& channel, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::system_clock::now() + timeout;
  auto state = channel.GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY) {
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN) return false;
    if (!channel.WaitForStateChange(state, deadline)) return false;
    state = channel.GetState(true);
  }
  return true;
}

void set_deadline(grpc::ClientContext& ctx, std::chrono::milliseconds timeout) {
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
}

Failure explain_failure(const grpc::Status& status, const ClientOptions& opts,
                        const std::string& addr) {
  const std::string target = addr.empty() ? "unix://" + opts.socket : addr;
  Failure f;
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED: {
      // An agent that refuses us closes the connection without a status: ask it how.
      const auto probe_timeout = std::min(opts.timeout, std::chrono::milliseconds(2000));
      const Diagnosis d = status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ? Diagnosis{}
                          : addr.empty() ? diagnose_unix(opts.socket, probe_timeout)
                                         : diagnose_tls(opts, addr, probe_timeout);
      if (d.refused) {
        f.message = "nodeguard at " + target + " refused the connection: " + d.reason;
        return f;
      }
      f.exit_code = kExitUnreachable;
      f.reachable = false;
      f.message = "cannot reach nodeguard at " + target + ": " +
                  (d.reason.empty() ? status.error_message() : d.reason);
      return f;
    }
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      f.message = "nodeguard at " + target + " refused the call: " + status.error_message();
      return f;
    default:
      f.message = "nodeguard at " + target + " answered with an error: " + status.error_message() +
                  " (code " + std::to_string(status.error_code()) + ")";
      return f;
  }
}

int report_rpc_failure(const grpc::Status& status, const ClientOptions& opts) {
  const Failure f = explain_failure(status, opts, opts.addr);
  std::cerr << "ngctl: " << f.message;
  if (f.exit_code == kExitUnreachable) {
    std::cerr << " (is the agent running? use --socket PATH or --addr HOST:PORT)";
  } else if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
             status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
    std::cerr << " (check --tls-cert/--tls-key or your uid)";
  }
  std::cerr << "\n";
  return f.exit_code;
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
