#include "probes/connectivity/asio_probe_transport.h"

#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace ng::probes::connectivity {
namespace {

std::string classify(const boost::system::error_code& ec) {
  namespace e = boost::asio::error;
  if (ec == e::connection_refused) return "refused";
  if (ec == e::host_unreachable || ec == e::network_unreachable) return "unreachable";
  if (ec == e::timed_out) return "timeout";
  if (ec == e::access_denied || ec == boost::system::errc::operation_not_permitted) {
    return "permission";
  }
  return "error";
}

}  // namespace

struct AsioProbeTransport::Op {
  virtual ~Op() = default;
  virtual void cancel() = 0;
  std::unique_ptr<core::Timer> timer;
  core::MonoTime started{};
  core::Clock* clock = nullptr;
  Done done;
  bool finished = false;
  std::function<void()> untrack;

  void finish(bool ok, std::string failure, std::string detail) {
    if (finished) return;
    finished = true;
    timer->cancel();
    ProbeOutcome o{ok, std::move(failure), std::move(detail), clock->now() - started};
    auto cb = std::move(done);
    cancel();
    auto u = std::move(untrack);
    if (u) u();  // callers hold a reference, so *this outlives this call
    if (cb) cb(std::move(o));
  }
};

struct AsioProbeTransport::TcpOp final : AsioProbeTransport::Op {
  explicit TcpOp(boost::asio::io_context& io) : socket(io), resolver(io) {}
  void cancel() override {
    boost::system::error_code ignored;
    socket.close(ignored);
    resolver.cancel();
  }
  boost::asio::ip::tcp::socket socket;
  boost::asio::ip::tcp::resolver resolver;
  std::string what;
};

struct AsioProbeTransport::PingOp final : AsioProbeTransport::Op {
  explicit PingOp(boost::asio::io_context& io) : fd(io) {}
  void cancel() override {
    boost::system::error_code ignored;
    fd.close(ignored);
  }
  boost::asio::posix::stream_descriptor fd;
  bool v6 = false;
  bool raw = false;
  std::uint16_t id = 0;
  std::uint16_t seq = 0;
  sockaddr_storage dst{};
  socklen_t dst_len = 0;
  std::string what;

  bool set_destination(const std::string& address);
  int open_socket();
  int send_echo();
  bool take_reply();
  static void await_reply(const std::shared_ptr<PingOp>& op);
};

AsioProbeTransport::~AsioProbeTransport() {
  cancel_all();
}

void AsioProbeTransport::track(const std::shared_ptr<Op>& op) {
  ops_.insert(op);
  std::weak_ptr<Op> weak = op;
  op->untrack = [this, weak] {
    if (auto s = weak.lock()) ops_.erase(s);
  };
}

void AsioProbeTransport::cancel_all() {
  auto ops = std::move(ops_);
  ops_.clear();
  for (const auto& op : ops) {
    op->done = nullptr;
    op->untrack = nullptr;
    op->finished = true;
    op->timer->cancel();
    op->cancel();
  }
}

void AsioProbeTransport::tcp_connect(const std::string& host, int port, core::Duration timeout,
                                     Done done) {
  auto op = std::make_shared<TcpOp>(io_);
  op->timer = clock_.make_timer();
  op->clock = &clock_;
  op->started = clock_.now();
  op->done = std::move(done);
  op->what = "connect " + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
             std::to_string(port);
  track(op);
  std::weak_ptr<TcpOp> weak = op;
  op->timer->arm(timeout, [weak] {
    if (auto o = weak.lock()) o->finish(false, "timeout", o->what + ": no answer in time");
  });
  auto connect = [op](const boost::asio::ip::tcp::resolver::results_type& endpoints) {
    boost::asio::async_connect(
        op->socket, endpoints,
        [op](const boost::system::error_code& ec, const boost::asio::ip::tcp::endpoint&) {
          if (op->finished) return;
          if (ec) return op->finish(false, classify(ec), op->what + ": " + ec.message());
          op->finish(true, "", op->what + ": connected");
        });
  };
  boost::system::error_code ec;
  const auto addr = boost::asio::ip::make_address(host, ec);
  if (!ec) {
    connect(boost::asio::ip::tcp::resolver::results_type::create(
        boost::asio::ip::tcp::endpoint(addr, static_cast<unsigned short>(port)), host,
        std::to_string(port)));
    return;
  }
  op->resolver.async_resolve(host, std::to_string(port),
                             [op, connect](const boost::system::error_code& ec,
                                           boost::asio::ip::tcp::resolver::results_type results) {
                               if (op->finished) return;
                               if (ec)
                                 return op->finish(false, "resolve",
                                                   op->what + ": " + ec.message());
                               connect(results);
                             });
}

namespace {

std::uint16_t checksum(const void* data, size_t len) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  std::uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
  if (len & 1) sum += static_cast<std::uint32_t>(p[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(static_cast<std::uint16_t>(~sum));
}

}  // namespace

// Fills dst from an IPv4 or IPv6 literal; false when it is neither.
bool AsioProbeTransport::PingOp::set_destination(const std::string& address) {
  sockaddr_in a4{};
  sockaddr_in6 a6{};
  if (::inet_pton(AF_INET, address.c_str(), &a4.sin_addr) == 1) {
    a4.sin_family = AF_INET;
    std::memcpy(&dst, &a4, sizeof a4);
    dst_len = sizeof a4;
  } else if (::inet_pton(AF_INET6, address.c_str(), &a6.sin6_addr) == 1) {
    a6.sin6_family = AF_INET6;
    std::memcpy(&dst, &a6, sizeof a6);
    dst_len = sizeof a6;
    v6 = true;
  } else {
    return false;
  }
  return true;
}

// A ping socket needs no privilege where ping_group_range allows it; else a raw socket.
// Returns the fd, or -1 with errno set.
int AsioProbeTransport::PingOp::open_socket() {
  const int family = v6 ? AF_INET6 : AF_INET;
  const int proto = v6 ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP};
  int s = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (s < 0) {
    s = ::socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    raw = true;
  }
  return s;
}

// Sends one echo request to dst; 0, or the errno of a failed send.
int AsioProbeTransport::PingOp::send_echo() {
  std::uint8_t packet[16] = {};
  packet[0] = static_cast<std::uint8_t>(v6 ? int{ICMP6_ECHO_REQUEST} : int{ICMP_ECHO});
  packet[4] = static_cast<std::uint8_t>(id >> 8);
  packet[5] = static_cast<std::uint8_t>(id);
  packet[6] = static_cast<std::uint8_t>(seq >> 8);
  packet[7] = static_cast<std::uint8_t>(seq);
  std::memcpy(packet + 8, "nodeguard", 8);
  if (!v6) {
    const std::uint16_t sum = checksum(packet, sizeof packet);
    std::memcpy(packet + 2, &sum, 2);
  }
  if (::sendto(fd.native_handle(), packet, sizeof packet, 0, reinterpret_cast<sockaddr*>(&dst),
               dst_len) < 0) {
    return errno;
  }
  return 0;
}

// Drains the socket; true once it held our echo reply.
bool AsioProbeTransport::PingOp::take_reply() {
  std::uint8_t buf[1500];
  sockaddr_storage from{};
  socklen_t from_len = sizeof from;
  for (;;) {
    const ssize_t n = ::recvfrom(fd.native_handle(), buf, sizeof buf, 0,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) return false;
    const std::uint8_t* icmp = buf;
    ssize_t len = n;
    if (raw && !v6) {  // raw IPv4 sockets deliver the IP header too
      const size_t ihl = static_cast<size_t>(buf[0] & 0x0f) * 4;
      if (static_cast<size_t>(n) < ihl + 8) continue;
      icmp = buf + ihl;
      len = n - static_cast<ssize_t>(ihl);
    }
    if (len < 8) continue;
    const int reply = v6 ? int{ICMP6_ECHO_REPLY} : int{ICMP_ECHOREPLY};
    const std::uint16_t got_seq = static_cast<std::uint16_t>(icmp[6] << 8 | icmp[7]);
    const std::uint16_t got_id = static_cast<std::uint16_t>(icmp[4] << 8 | icmp[5]);
    if (icmp[0] != reply || got_seq != seq || (raw && got_id != id)) continue;
    if (raw && std::memcmp(&from, &dst, std::min<size_t>(from_len, 8)) != 0) continue;
    return true;
  }
}

// Waits for readability until the reply arrives or the op finished otherwise.
void AsioProbeTransport::PingOp::await_reply(const std::shared_ptr<PingOp>& op) {
  auto wait = std::make_shared<std::function<void()>>();
  *wait = [op, wait] {
    op->fd.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [op, wait](const boost::system::error_code& ec) {
                        if (op->finished) {
                          *wait = nullptr;  // break the self-reference
                          return;
                        }
                        if (ec) return op->finish(false, "error", op->what + ": " + ec.message());
                        if (op->take_reply()) {
                          *wait = nullptr;
                          return op->finish(true, "", op->what + ": echo reply");
                        }
                        (*wait)();
                      });
  };
  (*wait)();
}

void AsioProbeTransport::ping(const std::string& address, core::Duration timeout, Done done) {
  auto op = std::make_shared<PingOp>(io_);
  op->timer = clock_.make_timer();
  op->clock = &clock_;
  op->started = clock_.now();
  op->done = std::move(done);
  op->what = "ping " + address;
  op->seq = ++seq_;
  op->id = static_cast<std::uint16_t>(::getpid() ^ 0x4e47);
  track(op);

  if (!op->set_destination(address)) {
    return op->finish(false, "error", op->what + ": not an IP address");
  }
  const int fd = op->open_socket();
  if (fd < 0) {
    return op->finish(false, "permission",
                      op->what + ": ICMP not permitted here (" + std::strerror(errno) +
                          "): allow ping sockets (net.ipv4.ping_group_range) or CAP_NET_RAW");
  }
  op->fd.assign(fd);
  if (const int err = op->send_echo(); err != 0) {
    return op->finish(false, err == ENETUNREACH || err == EHOSTUNREACH ? "unreachable" : "error",
                      op->what + ": " + std::strerror(err));
  }
  std::weak_ptr<PingOp> weak = op;
  op->timer->arm(timeout, [weak] {
    if (auto o = weak.lock()) o->finish(false, "timeout", o->what + ": no echo reply in time");
  });
  PingOp::await_reply(op);
}

}  // namespace ng::probes::connectivity
