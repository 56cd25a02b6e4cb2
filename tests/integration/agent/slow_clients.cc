// Holds COUNT connections to an HTTP port, each with a request head that is never finished (one
// more header byte per tick, the "slowloris" pattern); a connection the server closes is opened
// again at the next tick, so COUNT stay open or pending for SECONDS. Sources cycle through
// 127.0.0.2 .. 127.0.0.(1 + SOURCES) (loopback answers the whole 127/8). Bounded in count and
// time (SIGTERM ends it early); prints "open N" once all are connected, then a summary.
//
//   slow_clients --target 127.0.0.1:9746 --count 200 --sources 20 --seconds 8
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  int count = 200;
  int sources = 20;
  int seconds = 8;
  int tick_ms = 500;
};

int open_one(const Options& o, int index) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  src.sin_addr.s_addr = htonl(0x7f000002u + static_cast<uint32_t>(index % o.sources));
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(o.port));
  ::inet_pton(AF_INET, o.host.c_str(), &dst.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
    ::close(fd);
    return -1;
  }
  static const char kHead[] = "GET /metrics HTTP/1.1\r\nHost: node\r\nX-Slow: ";
  if (::send(fd, kHead, sizeof kHead - 1, MSG_NOSIGNAL) < 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// True when the server closed (EOF, reset) or answered: the slot is free again.
bool gone(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  char buf[256];
  return ::recv(fd, buf, sizeof buf, MSG_DONTWAIT) >= 0 || errno != EAGAIN;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string target;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--target")
      target = v;
    else if (k == "--count")
      o.count = std::atoi(v);
    else if (k == "--sources")
      o.sources = std::atoi(v);
    else if (k == "--seconds")
      o.seconds = std::atoi(v);
    else if (k == "--tick-ms")
      o.tick_ms = std::atoi(v);
  }
  const auto colon = target.rfind(':');
  if (colon == std::string::npos || o.count < 1 || o.count > 1000 || o.sources < 1 ||
      o.sources > 250 || o.seconds < 1 || o.seconds > 120) {
    std::fprintf(stderr,
                 "usage: slow_clients --target IPv4:PORT [--count 1..1000] [--sources 1..250] "
                 "[--seconds 1..120] [--tick-ms N]\n");
    return 2;
  }
  o.host = target.substr(0, colon);
  o.port = std::atoi(target.c_str() + colon + 1);

  std::vector<int> fds(static_cast<size_t>(o.count), -1);
  long opened = 0, reopened = 0, failed = 0, shed = 0;
  for (int i = 0; i < o.count; ++i) {
    fds[static_cast<size_t>(i)] = open_one(o, i);
    fds[static_cast<size_t>(i)] < 0 ? ++failed : ++opened;
  }
  std::printf("open %ld\n", opened);
  std::fflush(stdout);
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(o.seconds);
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop = 1; };
  ::sigaction(SIGTERM, &sa, nullptr);
  while (!g_stop && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(o.tick_ms));
    for (int i = 0; i < o.count; ++i) {
      int& fd = fds[static_cast<size_t>(i)];
      if (fd >= 0 && gone(fd)) {
        ::close(fd);
        fd = -1;
        ++shed;
      }
      if (fd < 0) {
        fd = open_one(o, i);
        fd < 0 ? ++failed : ++reopened;
      } else if (::send(fd, "a", 1, MSG_NOSIGNAL) < 0) {
        ::close(fd);
        fd = -1;
        ++shed;
      }
    }
  }
  long still = 0;
  for (int fd : fds) {
    if (fd >= 0) {
      still += !gone(fd);
      ::close(fd);
    }
  }
  std::printf("done opened %ld reopened %ld closed_by_server %ld failed %ld open_at_end %ld\n",
              opened, reopened, shed, failed, still);
  return 0;
}
