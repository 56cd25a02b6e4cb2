#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

namespace CLI {
class App;
}

namespace ng::ngctl {

// How ngctl reaches an agent: a unix socket (default) or a TLS TCP address.
struct ClientOptions {
  std::string socket = "/run/nodeguard/nodeguard.sock";
  std::string addr;  // HOST:PORT; when set, wins over the socket
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_server_name;
  std::chrono::milliseconds timeout{5000};
  std::string output = "table";  // table | json

  std::string target() const;  // what the user would recognise in a message
};

// Registers --socket, --addr, --timeout, -o and the TLS flags on the top-level app.
void add_client_flags(CLI::App& app, ClientOptions& opts, std::string& timeout_text);

// A channel for one target; TLS when addr is used. Empty pointer plus reason on bad TLS files.
std::shared_ptr<grpc::Channel> make_channel(const ClientOptions& opts, const std::string& addr,
                                            std::string* error);

void set_deadline(grpc::ClientContext& ctx, std::chrono::milliseconds timeout);

// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUnreachable = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitRpcError = 3;

// Prints "ngctl: <one line reason>" for a failed call and returns the exit code.
int report_rpc_failure(const grpc::Status& status, const std::string& target);

}  // namespace ng::ngctl
