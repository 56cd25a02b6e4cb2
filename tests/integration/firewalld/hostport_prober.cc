// hostport_prober: opens a TCP connection to ADDR:PORT every --interval (default 10 ms), without
// waiting for earlier probes (each has its own --timeout, default 100 ms), and prints one line per
// probe when it ends:
//
//   <start, CLOCK_REALTIME ns> ok|fail <duration us> [why]
//
// ok means the server sent at least one byte (the pod's socat answers a line). Runs until
// --duration or SIGTERM/SIGINT. Used by the firewalld end-to-end test and benchmark to see the
// hostPort outage around a firewalld reload; the start times line up with `date +%s%N`.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

std::int64_t now_ns(clockid_t c) {
  timespec ts{};
  ::clock_gettime(c, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct Probe {
  int fd = -1;
  std::int64_t start_real = 0;
  std::int64_t start_mono = 0;
  bool connected = false;
};

void finish(Probe& p, bool ok, const char* why) {
  const std::int64_t took_us = (now_ns(CLOCK_MONOTONIC) - p.start_mono) / 1000;
  std::printf("%lld %s %lld%s%s\n", static_cast<long long>(p.start_real), ok ? "ok" : "fail",
              static_cast<long long>(took_us), why ? " " : "", why ? why : "");
  ::close(p.fd);
  p.fd = -1;
}

int usage() {
  std::fprintf(stderr,
               "usage: hostport_prober --target ADDR:PORT [--interval-ms 10] [--timeout-ms 100] "
               "[--duration-s 0 (until SIGTERM)]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string target;
  long interval_ms = 10, timeout_ms = 100, duration_s = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--target") {
      target = argv[i + 1];
    } else if (k == "--interval-ms") {
      interval_ms = std::atol(argv[i + 1]);
    } else if (k == "--timeout-ms") {
      timeout_ms = std::atol(argv[i + 1]);
    } else if (k == "--duration-s") {
      duration_s = std::atol(argv[i + 1]);
    } else {
      return usage();
    }
  }
  const auto colon = target.rfind(':');
  if (colon == std::string::npos || interval_ms <= 0 || timeout_ms <= 0) return usage();
  std::string host = target.substr(0, colon);
  if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
  const int port = std::atoi(target.c_str() + colon + 1);
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  int family = AF_INET;
  if (host.find(':') != std::string::npos) {
    family = AF_INET6;
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET6, host.c_str(), &a->sin6_addr) != 1) return usage();
    addr_len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &a->sin_addr) != 1) return usage();
    addr_len = sizeof *a;
  }
  ::signal(SIGTERM, on_signal);
  ::signal(SIGINT, on_signal);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  const std::int64_t interval = interval_ms * 1000000, timeout = timeout_ms * 1000000;
  const std::int64_t begin = now_ns(CLOCK_MONOTONIC);
  std::int64_t next = begin;
  std::vector<Probe> probes;
  while (!g_stop &&
         (duration_s == 0 || now_ns(CLOCK_MONOTONIC) - begin < duration_s * 1000000000)) {
    std::int64_t now = now_ns(CLOCK_MONOTONIC);
    if (now >= next) {
      Probe p;
      p.start_mono = now;
      p.start_real = now_ns(CLOCK_REALTIME);
      p.fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (p.fd < 0) {
        std::perror("socket");
        return 1;
      }
      const int r = ::connect(p.fd, reinterpret_cast<sockaddr*>(&addr), addr_len);
      if (r == 0) {
        p.connected = true;
      } else if (errno != EINPROGRESS) {
        finish(p, false, std::strerror(errno));
      }
      if (p.fd >= 0) probes.push_back(p);
      next += interval;
      if (next < now) next = now + interval;  // fell behind: keep the cadence, skip the gap
    }
    std::vector<pollfd> fds;
    for (const auto& p : probes)
      fds.push_back({p.fd, static_cast<short>(p.connected ? POLLIN : POLLOUT), 0});
    now = now_ns(CLOCK_MONOTONIC);
    std::int64_t wait = next - now;
    for (const auto& p : probes) wait = std::min(wait, p.start_mono + timeout - now);
    ::poll(fds.data(), fds.size(), static_cast<int>(std::max<std::int64_t>(0, wait / 1000000)));
    now = now_ns(CLOCK_MONOTONIC);
    for (size_t i = 0; i < probes.size(); ++i) {
      Probe& p = probes[i];
      const short ev = fds[i].revents;
      if (!p.connected && (ev & (POLLOUT | POLLERR | POLLHUP))) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          finish(p, false, std::strerror(err));
          continue;
        }
        p.connected = true;
      } else if (p.connected && (ev & (POLLIN | POLLERR | POLLHUP))) {
        char buf[64];
        const ssize_t n = ::read(p.fd, buf, sizeof buf);
        finish(p, n > 0, n > 0 ? nullptr : (n == 0 ? "closed without data" : std::strerror(errno)));
        continue;
      }
      if (p.fd >= 0 && now - p.start_mono >= timeout) finish(p, false, "timeout");
    }
    std::erase_if(probes, [](const Probe& p) { return p.fd < 0; });
  }
  for (auto& p : probes) finish(p, false, "stopped");
  return 0;
}
