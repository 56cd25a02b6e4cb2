#pragma once

#include <sys/types.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "agent/api/call_gate.h"
#include "core/log.h"
#include "core/result.h"

namespace grpc {
class Server;
}

namespace ng::agent {

// The API's unix socket. gRPC 1.51 does not tell a handler who is on the other end of a unix
// socket, so the agent accepts connections itself: the socket is created mode 0600, each
// accepted connection's peer uid (SO_PEERCRED, recorded by the kernel at connect time) is
// checked against api.allowed_uids, and only then is the connection handed to the gRPC server
// (grpc::AddInsecureChannelFromFd). A refused connection is closed before a byte is read.
class UnixSocketListener {
 public:
  UnixSocketListener(std::string path, std::vector<uid_t> allowed_uids, CallGate& gate,
                     core::Logger log);
  ~UnixSocketListener();

  // Creates the socket (replacing a stale one; refusing if another agent answers on it).
  core::Status bind();
  // Accepts on a thread of its own until stop(). The server must be started.
  void start(grpc::Server* server);
  // Stops accepting, closes and removes the socket. Connections already handed over stay
  // with the server. Safe to call twice.
  void stop();

  const std::string& path() const { return path_; }

 private:
  void accept_loop();
  void handle(int fd);

  std::string path_;
  std::vector<uid_t> allowed_;
  CallGate& gate_;
  core::Logger log_;
  grpc::Server* server_ = nullptr;
  int listen_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
  std::int64_t last_refusal_log_s_ = 0;
};

// Parses api.allowed_uids (validated as numbers by the config).
std::vector<uid_t> parse_uids(const std::vector<std::string>& uids);

}  // namespace ng::agent
