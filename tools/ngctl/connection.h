#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/security/credentials.h>
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

// The channel to the agent the flags name; on bad TLS files prints why and returns null
// (exit with kExitUsage).
std::shared_ptr<grpc::Channel> open_channel(const ClientOptions& opts);

// Channels to many agents with the same TLS settings; the files are read once. Thread-safe.
class ChannelFactory {
 public:
  // False plus reason when a TLS file cannot be read.
  bool init(const ClientOptions& opts, std::string* error);
  // TLS to addr (HOST:PORT); server_name overrides the name checked in the certificate.
  std::shared_ptr<grpc::Channel> tls(const std::string& addr, const std::string& server_name) const;

 private:
  // One credentials object for every channel: the CA and key are parsed once.
  std::shared_ptr<grpc::ChannelCredentials> creds_;
};

void set_deadline(grpc::ClientContext& ctx, std::chrono::milliseconds timeout);

// Connects within the timeout; false as soon as the first attempt fails (nothing listening,
// or the agent closed the connection) instead of retrying until the deadline.
bool connect_now(grpc::Channel& channel, std::chrono::milliseconds timeout);

// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUnreachable = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitRpcError = 3;

// Prints "ngctl: <one line reason>" for a failed call and returns the exit code.
int report_rpc_failure(const grpc::Status& status, const std::string& target);
// The same, and when the agent seems unreachable, finds out whether it is there and refused
// us (bad or missing client certificate, uid not allowed): exit 3 with the reason.
int report_rpc_failure(const grpc::Status& status, const ClientOptions& opts);

// One failed call explained, for commands that report many targets (fleet).
struct Failure {
  int exit_code = kExitRpcError;
  bool reachable = true;  // false: nothing answered at the address
  std::string message;    // one line
};
Failure explain_failure(const grpc::Status& status, const ClientOptions& opts,
                        const std::string& addr);

}  // namespace ng::ngctl
