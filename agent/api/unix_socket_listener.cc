#include "agent/api/unix_socket_listener.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <grpcpp/server.h>
#include <grpcpp/server_posix.h>

#include "core/files.h"

namespace ng::agent {
namespace {

std::string parent_dir(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

bool fill_address(const std::string& path, sockaddr_un& addr) {
  addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return true;
}

// Whether something answers on an existing socket file (another agent).
bool socket_answers(const sockaddr_un& addr) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool answers = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return answers;
}

}  // namespace

std::vector<uid_t> parse_uids(const std::vector<std::string>& uids) {
  std::vector<uid_t> out;
  for (const auto& u : uids) {
    try {
      out.push_back(static_cast<uid_t>(std::stoul(u)));
    } catch (...) {
      // The config validated these as numbers; anything else is not a uid we allow.
    }
  }
  return out;
}

UnixSocketListener::UnixSocketListener(std::string path, std::vector<uid_t> allowed_uids,
                                       CallGate& gate, core::Logger log)
    : path_(std::move(path)),
      allowed_(std::move(allowed_uids)),
      gate_(gate),
      log_(std::move(log)) {}

UnixSocketListener::~UnixSocketListener() {
  stop();
}

core::Status UnixSocketListener::bind() {
  sockaddr_un addr;
  if (!fill_address(path_, addr)) {
    return core::EnvError{core::EnvErrorKind::kInvalidInput,
                          "unix socket path too long (max 107 bytes): " + path_};
  }
  core::PosixFiles files;
  if (auto st = files.make_dirs(parent_dir(path_)); !st) return st.error();
  struct stat st;
  if (::lstat(path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return core::EnvError{core::EnvErrorKind::kInvalidInput,
                            path_ + " exists and is not a socket; refusing to replace it"};
    }
    if (socket_answers(addr)) {
      return core::EnvError{core::EnvErrorKind::kUnavailable,
                            "another process answers on " + path_ + " (a second agent?)"};
    }
    ::unlink(path_.c_str());  // stale socket of an agent that died
  }
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0) return core::EnvError::from_errno(errno, "socket(AF_UNIX)");
  // Mode 0600 from birth: no window in which another user could connect.
  const mode_t old_mask = ::umask(0177);
  const int rc = ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  const int bind_errno = errno;
  ::umask(old_mask);
  if (rc != 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    return core::EnvError::from_errno(bind_errno, "bind " + path_);
  }
  ::chmod(path_.c_str(), 0600);
  if (::listen(listen_fd_, 128) != 0) {
    const int e = errno;
    ::close(listen_fd_);
    listen_fd_ = -1;
    ::unlink(path_.c_str());
    return core::EnvError::from_errno(e, "listen " + path_);
  }
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) return core::EnvError::from_errno(errno, "eventfd");
  return core::Ok{};
}

void UnixSocketListener::start(grpc::Server* server) {
  server_ = server;
  thread_ = std::thread([this] { accept_loop(); });
}

void UnixSocketListener::stop() {
  if (thread_.joinable()) {
    const std::uint64_t one = 1;
    (void)::write(wake_fd_, &one, sizeof one);
    thread_.join();
  }
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    ::unlink(path_.c_str());
  }
  if (wake_fd_ >= 0) {
    ::close(wake_fd_);
    wake_fd_ = -1;
  }
}

void UnixSocketListener::accept_loop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      log_.error("unix socket poll failed; no more local connections",
                 {{"error", std::strerror(errno)}});
      return;
    }
    if (fds[1].revents) return;
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd >= 0) {
        handle(fd);
        continue;
      }
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        // EMFILE and friends: log, back off a little, keep serving.
        log_.warn("unix socket accept failed", {{"error", std::strerror(errno)}});
        pollfd w{wake_fd_, POLLIN, 0};
        if (::poll(&w, 1, 100) > 0) return;
      }
      break;
    }
  }
}

void UnixSocketListener::handle(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  const bool known = ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0;
  if (known && std::find(allowed_.begin(), allowed_.end(), cred.uid) != allowed_.end()) {
    grpc::AddInsecureChannelFromFd(server_, fd);  // the server owns fd from here
    return;
  }
  gate_.count_peer_uid_refusal();
  // One line per second at most: a local loop of refused connects must not flood the log.
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::steady_clock::now().time_since_epoch())
                         .count();
  if (now_s != last_refusal_log_s_) {
    last_refusal_log_s_ = now_s;
    log_.warn("unix socket connection refused: peer uid not in api.allowed_uids",
              {{"uid", known ? static_cast<std::int64_t>(cred.uid) : -1},
               {"pid", known ? static_cast<std::int64_t>(cred.pid) : -1},
               {"socket", path_}});
  }
  ::close(fd);
}

}  // namespace ng::agent
