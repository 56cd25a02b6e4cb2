// The lab's outage meter: opens a new TCP connection to one address every --interval and counts
// it a success when the server's greeting (--expect) arrives within --timeout. Every change of
// state is one line on stdout as it happens; SIGINT/SIGTERM (or --duration) ends the run with a
// JSON summary line:
//   up 1717171717123 first
//   down 1717171719001 Connection refused
//   up 1717171719043 after 4 failed connects
//   {"attempts":..,"failures":..,"outages":[{"start_ms":..,"end_ms":..,"ms":..,"failed":..,
//     "reason":".."}],"longest_outage_ms":..,"open":false}
// An outage lasts from the start of its first failed connect to the start of the next connect
// that succeeds, so it is measured to within one interval. Times are wall-clock milliseconds,
// so they line up with the agent's log. Run it in a client network namespace (ip netns exec).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/config_binder.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

using Clock = std::chrono::steady_clock;

long long wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int remaining_ms(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// One connect-and-greet. Returns an empty string on success, else why it failed.
std::string attempt(const sockaddr_storage& addr, socklen_t len, std::chrono::milliseconds timeout,
                    const std::string& expect) {
  const auto deadline = Clock::now() + timeout;
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket: ") + std::strerror(errno);
  std::string why;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0 && errno != EINPROGRESS) {
    why = std::strerror(errno);
  } else {
    pollfd p{fd, POLLOUT, 0};
    const int n = ::poll(&p, 1, remaining_ms(deadline));
    int err = 0;
    socklen_t el = sizeof err;
    if (n <= 0) {
      why = "connect timed out";
    } else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
      why = std::strerror(err ? err : errno);
    }
  }
  std::string got;
  while (why.empty() && got.find(expect) == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) {
      why = got.empty() ? "no answer" : "wrong answer";
      break;
    }
    char buf[512];
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0) {
      why = std::strerror(errno);
    } else if (r == 0) {
      why = got.empty() ? "closed without an answer" : "wrong answer";
    } else {
      got.append(buf, static_cast<size_t>(r));
    }
  }
  ::close(fd);
  return why;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out;
}

struct Outage {
  long long start_ms = 0, end_ms = 0;
  int failed = 0;
  std::string reason;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ng_lab_prober: measures how long a TCP service stops answering (tools/lab)"};
  std::string target, expect, interval_text = "10ms", timeout_text = "200ms", duration_text = "0s";
  app.add_option("--target", target, "IPv4 HOST:PORT (or [v6]:PORT) to connect to")->required();
  app.add_option("--expect", expect, "Text the server sends; empty: a connect is enough");
  app.add_option("--interval", interval_text, "Time between the starts of two connects")
      ->capture_default_str();
  app.add_option("--timeout", timeout_text, "Deadline of one connect and greeting")
      ->capture_default_str();
  app.add_option("--duration", duration_text, "Stop after this long (0: at SIGINT/SIGTERM)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  const auto interval = ng::core::parse_duration(interval_text);
  const auto timeout = ng::core::parse_duration(timeout_text);
  const auto duration = ng::core::parse_duration(duration_text);
  if (!interval || !timeout || !duration || interval->count() <= 0 || timeout->count() <= 0) {
    std::fprintf(stderr, "ng_lab_prober: durations look like 10ms or 2s\n");
    return 2;
  }
  sockaddr_storage addr{};
  socklen_t len = 0;
  const auto colon = target.rfind(':');
  std::string host = colon == std::string::npos ? "" : target.substr(0, colon);
  const int port = colon == std::string::npos ? 0 : std::atoi(target.c_str() + colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (port > 0 && port < 65536 && ::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof *v4;
  } else if (port > 0 && port < 65536 && ::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof *v6;
  } else {
    std::fprintf(stderr, "ng_lab_prober: --target: expected IP:PORT, got \"%s\"\n",
                 target.c_str());
    return 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);

  const auto begun = Clock::now();
  long long attempts = 0, failures = 0;
  std::vector<Outage> outages;
  std::optional<Outage> open;
  bool seen_up = false;
  auto next = begun;
  while (!g_stop && (duration->count() == 0 || Clock::now() - begun < *duration)) {
    const long long at = wall_ms();
    const std::string why = attempt(addr, len, *timeout, expect);
    ++attempts;
    if (why.empty()) {
      if (open) {
        open->end_ms = at;
        std::printf("up %lld after %d failed connects\n", at, open->failed);
        outages.push_back(*open);
        open.reset();
      } else if (!seen_up) {
        std::printf("up %lld first\n", at);
      }
      seen_up = true;
    } else {
      ++failures;
      if (!open) {
        open = Outage{at, 0, 0, why};
        std::printf("down %lld %s\n", at, why.c_str());
      }
      ++open->failed;
    }
    std::fflush(stdout);
    next += *interval;
    const auto now = Clock::now();
    if (next > now) {
      std::this_thread::sleep_for(next - now);
    } else {
      next = now;  // a slow connect: start the next one at once, do not bunch up
    }
  }
  long long longest = 0;
  std::string list;
  for (const auto& o : outages) {
    longest = std::max(longest, o.end_ms - o.start_ms);
    list += (list.empty() ? "" : ",") + std::string("{\"start_ms\":") +
            std::to_string(o.start_ms) + ",\"end_ms\":" + std::to_string(o.end_ms) +
            ",\"ms\":" + std::to_string(o.end_ms - o.start_ms) +
            ",\"failed\":" + std::to_string(o.failed) + ",\"reason\":\"" +
            json_escape(o.reason) + "\"}";
  }
  std::printf(
      "{\"attempts\":%lld,\"failures\":%lld,\"outages\":[%s],\"longest_outage_ms\":%lld,"
      "\"open\":%s,\"open_since_ms\":%lld}\n",
      attempts, failures, list.c_str(), longest, open ? "true" : "false",
      open ? open->start_ms : 0LL);
  return 0;
}
