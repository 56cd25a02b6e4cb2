#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/process_runner.h"

extern char** environ;

namespace ng::core {
namespace {

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() { close_both(); }
  void close_both() {
    for (int& f : fd) {
      if (f >= 0) ::close(f);
      f = -1;
    }
  }
  void close_end(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

// The agent's environment with the request's extra variables replacing any of the same name.
std::vector<std::string> child_environment(const ProcessRequest& req) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq != std::string::npos && req.extra_env.count(kv.substr(0, eq))) continue;
    env.push_back(std::move(kv));
  }
  for (const auto& [k, v] : req.extra_env) env.push_back(k + "=" + v);
  return env;
}

}  // namespace

bool executable_on_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string dir = p.substr(start, end - start);
    if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

Result<ProcessResult> PosixProcessRunner::run(const ProcessRequest& req) {
  if (req.argv.empty()) return EnvError{EnvErrorKind::kInvalidInput, "empty argv"};
  if (!executable_on_path(req.argv[0])) {
    return EnvError{EnvErrorKind::kMissingBinary, req.argv[0] + ": not found in PATH"};
  }
  Pipe in, out, err;
  if (::pipe2(in.fd, O_CLOEXEC) || ::pipe2(out.fd, O_CLOEXEC) || ::pipe2(err.fd, O_CLOEXEC)) {
    return EnvError::from_errno(errno, "pipe");
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in.fd[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err.fd[1], 2);

  std::vector<std::string> env_store = child_environment(req);
  std::vector<char*> envp;
  for (auto& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  for (const auto& a : req.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    if (rc == ENOENT) return EnvError{EnvErrorKind::kMissingBinary, req.argv[0] + ": not found"};
    return EnvError::from_errno(rc, "spawn " + req.argv[0]);
  }
  in.close_end(0);
  out.close_end(1);
  err.close_end(1);
  for (int fd : {in.fd[1], out.fd[0], err.fd[0]}) ::fcntl(fd, F_SETFL, O_NONBLOCK);

  ProcessResult result;
  size_t written = 0;
  if (req.stdin_data.empty()) in.close_end(1);
  const auto deadline = std::chrono::steady_clock::now() + req.timeout;
  bool timed_out = false;
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    pollfd pfds[3];
    int n = 0;
    int idx_in = -1, idx_out = -1, idx_err = -1;
    if (in.fd[1] >= 0) pfds[idx_in = n++] = {in.fd[1], POLLOUT, 0};
    if (out.fd[0] >= 0) pfds[idx_out = n++] = {out.fd[0], POLLIN, 0};
    if (err.fd[0] >= 0) pfds[idx_err = n++] = {err.fd[0], POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    const int pr = ::poll(pfds, n, static_cast<int>(left.count()));
    if (pr < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (idx_in >= 0 && (pfds[idx_in].revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t w =
          ::write(in.fd[1], req.stdin_data.data() + written, req.stdin_data.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if (w < 0 && errno != EAGAIN && errno != EINTR) written = req.stdin_data.size();
      if (written >= req.stdin_data.size()) in.close_end(1);
    }
    auto drain = [](Pipe& p, short revents, std::string& sink) {
      if (!(revents & (POLLIN | POLLHUP | POLLERR))) return;
      char buf[65536];
      for (;;) {
        const ssize_t r = ::read(p.fd[0], buf, sizeof buf);
        if (r > 0) {
          sink.append(buf, static_cast<size_t>(r));
          continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EINTR)) p.close_end(0);
        return;
      }
    };
    if (idx_out >= 0) drain(out, pfds[idx_out].revents, result.out);
    if (idx_err >= 0) drain(err, pfds[idx_err].revents, result.err);
  }
  if (timed_out) ::kill(pid, SIGKILL);
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return EnvError{EnvErrorKind::kTimeout,
                    req.argv[0] + ": killed after " + std::to_string(req.timeout.count()) + " ms"};
  }
  result.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  return result;
}

}  // namespace ng::core
