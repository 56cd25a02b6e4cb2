// The lab's outage meter: starts a new TCP connection to one address every --interval, whether
// or not earlier ones have finished (at most --max-inflight at once), and counts a connection a
// success when it is up within --timeout and the server's greeting (--expect) arrives within
// --answer-timeout. Because attempts overlap, a connect that hangs (a SYN dropped while the
// rules were gone) does not blind the meter: the attempts started after the repair succeed
// while it waits. Results are taken in the order the attempts started; every change of state is
// one line on stdout as soon as it is known; SIGINT/SIGTERM (or --duration) ends the run with a
// JSON summary line:
//   up 1717171717123 first
//   down 1717171719001 Connection refused
//   up 1717171719043 after 4 failed connects
//   {"attempts":..,"failures":..,"outages":[{"start_ms":..,"end_ms":..,"ms":..,"failed":..,
//     "reason":".."}],"longest_outage_ms":..,"total_outage_ms":..,"open":false,"open_since_ms":0}
// An outage lasts from the start of its first failed attempt to the start of the next attempt
// that succeeds, so it is measured to within one interval. Times are wall-clock milliseconds, so
// they line up with the agent's log. Run it in a client network namespace (ip netns exec).
#include <arpa/inet.h>
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
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/config_binder.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

long long wall_ms() {
  return std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Attempt {
  long long start_ms = 0;
  int fd = -1;
  bool connected = false;
  Clock::time_point deadline;
  std::string got;
  bool done = false;
  std::string why;  // empty: success
};

struct Options {
  sockaddr_storage addr{};
  socklen_t len = 0;
  Millis timeout{200}, answer_timeout{2000};
  std::string expect;
};

void finish(Attempt& a, std::string why) {
  if (a.fd >= 0) ::close(a.fd);
  a.fd = -1;
  a.done = true;
  a.why = std::move(why);
}

void start(Attempt& a, const Options& o) {
  a.start_ms = wall_ms();
  a.deadline = Clock::now() + o.timeout;
  a.fd = ::socket(o.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (a.fd < 0) return finish(a, std::string("socket: ") + std::strerror(errno));
  if (::connect(a.fd, reinterpret_cast<const sockaddr*>(&o.addr), o.len) == 0) {
    a.connected = true;
    a.deadline = Clock::now() + o.answer_timeout;
  } else if (errno != EINPROGRESS) {
    finish(a, std::strerror(errno));
  }
}

// Moves one attempt on after poll() said its socket is ready (or its deadline passed).
void advance(Attempt& a, short revents, const Options& o) {
  if (!a.connected) {
    if (!(revents & (POLLOUT | POLLERR | POLLHUP))) {
      if (Clock::now() >= a.deadline) finish(a, "connect timed out");
      return;
    }
    int err = 0;
    socklen_t el = sizeof err;
    if (::getsockopt(a.fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
      return finish(a, std::strerror(err ? err : errno));
    }
    a.connected = true;
    a.deadline = Clock::now() + o.answer_timeout;
    return;
  }
  if (revents & (POLLIN | POLLERR | POLLHUP)) {
    char buf[512];
    const ssize_t r = ::read(a.fd, buf, sizeof buf);
    if (r < 0 && errno != EAGAIN) return finish(a, std::strerror(errno));
    if (r == 0) return finish(a, a.got.empty() ? "closed without an answer" : "wrong answer");
    if (r > 0) a.got.append(buf, static_cast<size_t>(r));
    if (a.got.find(o.expect) != std::string::npos) return finish(a, "");
  }
  if (Clock::now() >= a.deadline) finish(a, a.got.empty() ? "no answer" : "wrong answer");
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

// Takes finished attempts in start order and keeps the account.
struct Ledger {
  long long attempts = 0, failures = 0;
  std::vector<Outage> outages;
  std::optional<Outage> open;
  bool seen_up = false;

  void take(const Attempt& a) {
    ++attempts;
    if (a.why.empty()) {
      if (open) {
        open->end_ms = a.start_ms;
        std::printf("up %lld after %d failed connects\n", a.start_ms, open->failed);
        outages.push_back(*open);
        open.reset();
      } else if (!seen_up) {
        std::printf("up %lld first\n", a.start_ms);
      }
      seen_up = true;
    } else {
      ++failures;
      if (!open) {
        open = Outage{a.start_ms, 0, 0, a.why};
        std::printf("down %lld %s\n", a.start_ms, a.why.c_str());
      }
      ++open->failed;
    }
    std::fflush(stdout);
  }

  void print_summary() const {
    long long longest = 0, total = 0;
    std::string list;
    for (const auto& o : outages) {
      longest = std::max(longest, o.end_ms - o.start_ms);
      total += o.end_ms - o.start_ms;
      list += (list.empty() ? "" : ",") + std::string("{\"start_ms\":") +
              std::to_string(o.start_ms) + ",\"end_ms\":" + std::to_string(o.end_ms) +
              ",\"ms\":" + std::to_string(o.end_ms - o.start_ms) +
              ",\"failed\":" + std::to_string(o.failed) + ",\"reason\":\"" + json_escape(o.reason) +
              "\"}";
    }
    std::printf(
        "{\"attempts\":%lld,\"failures\":%lld,\"outages\":[%s],\"longest_outage_ms\":%lld,"
        "\"total_outage_ms\":%lld,\"open\":%s,\"open_since_ms\":%lld}\n",
        attempts, failures, list.c_str(), longest, total, open ? "true" : "false",
        open ? open->start_ms : 0LL);
  }
};

bool parse_target(const std::string& target, Options& o) {
  const auto colon = target.rfind(':');
  if (colon == std::string::npos) return false;
  std::string host = target.substr(0, colon);
  const int port = std::atoi(target.c_str() + colon + 1);
  if (port <= 0 || port > 65535) return false;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  auto* v4 = reinterpret_cast<sockaddr_in*>(&o.addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&o.addr);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    o.len = sizeof *v4;
    return true;
  }
  if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    o.len = sizeof *v6;
    return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ng_lab_prober: measures how long a TCP service stops answering (tools/lab)"};
  std::string target, interval_text = "10ms", timeout_text = "200ms", answer_text = "2s",
                      duration_text = "0s";
  int max_inflight = 200;
  Options o;
  app.add_option("--target", target, "IP:PORT (or [v6]:PORT) to connect to")->required();
  app.add_option("--expect", o.expect, "Text the server sends; empty: a connect is enough");
  app.add_option("--interval", interval_text, "Time between the starts of two connects")
      ->capture_default_str();
  app.add_option("--timeout", timeout_text, "Deadline of one connect")->capture_default_str();
  app.add_option("--answer-timeout", answer_text, "Deadline of the greeting once connected")
      ->capture_default_str();
  app.add_option("--max-inflight", max_inflight, "Attempts open at once (more wait their turn)")
      ->capture_default_str();
  app.add_option("--duration", duration_text, "Stop after this long (0: at SIGINT/SIGTERM)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  const auto interval = ng::core::parse_duration(interval_text);
  const auto timeout = ng::core::parse_duration(timeout_text);
  const auto answer_timeout = ng::core::parse_duration(answer_text);
  const auto duration = ng::core::parse_duration(duration_text);
  if (!interval || !timeout || !answer_timeout || !duration || interval->count() <= 0 ||
      timeout->count() <= 0 || answer_timeout->count() <= 0 || max_inflight < 1) {
    std::fprintf(stderr, "ng_lab_prober: durations look like 10ms or 2s; --max-inflight >= 1\n");
    return 2;
  }
  o.timeout = *timeout;
  o.answer_timeout = *answer_timeout;
  if (!parse_target(target, o)) {
    std::fprintf(stderr, "ng_lab_prober: --target: expected IP:PORT, got \"%s\"\n", target.c_str());
    return 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);

  const auto begun = Clock::now();
  auto next = begun;
  std::deque<Attempt> inflight;  // in start order
  Ledger ledger;
  bool stopping = false;
  while (!stopping || !inflight.empty()) {
    stopping = stopping || g_stop || (duration->count() > 0 && Clock::now() - begun >= *duration);
    const auto now = Clock::now();
    if (!stopping && now >= next && static_cast<int>(inflight.size()) < max_inflight) {
      inflight.emplace_back();
      start(inflight.back(), o);
      next += *interval;
      if (next < now) next = now + *interval;  // fell behind: do not bunch up
    }
    std::vector<pollfd> fds;
    std::vector<Attempt*> owners;
    auto wake = stopping ? Clock::now() + Millis(50) : next;
    for (auto& a : inflight) {
      if (a.done) continue;
      fds.push_back(pollfd{a.fd, static_cast<short>(a.connected ? POLLIN : POLLOUT), 0});
      owners.push_back(&a);
      wake = std::min(wake, a.deadline);
    }
    const auto wait = std::chrono::duration_cast<Millis>(wake - Clock::now()).count();
    ::poll(fds.data(), fds.size(), static_cast<int>(std::max<long long>(0, wait)));
    for (size_t i = 0; i < fds.size(); ++i) advance(*owners[i], fds[i].revents, o);
    while (!inflight.empty() && inflight.front().done) {
      ledger.take(inflight.front());
      inflight.pop_front();
    }
  }
  ledger.print_summary();
  return 0;
}
