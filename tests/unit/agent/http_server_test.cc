#include "agent/metrics/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#include "tests/support/http_get.h"
#include "tests/support/metric_value.h"

namespace ng::agent {
namespace {

using namespace std::chrono_literals;

// A client socket on loopback that sends part of a request head and then nothing.
class IdleClient {
 public:
  explicit IdleClient(int port, const std::string& partial = "GET /metrics HTTP/1.1\r\nHost: x") {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    if (connected_ && !partial.empty()) (void)::write(fd_, partial.data(), partial.size());
  }
  ~IdleClient() { ::close(fd_); }
  IdleClient(const IdleClient&) = delete;
  IdleClient& operator=(const IdleClient&) = delete;

  bool connected() const { return connected_; }
  // True once the server has closed the connection (EOF or reset), waiting up to `within`.
  bool closed_by_server(std::chrono::milliseconds within) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(within.count())) <= 0) return false;
    char buf[512];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) reply_.append(buf, static_cast<size_t>(n));
    return n <= 0 || closed_by_server(within);
  }
  const std::string& reply() const { return reply_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string reply_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  int start(HttpLimits limits) {
    server = std::make_unique<HttpServer>(limits, registry, core::Logger::discard());
    auto port = server->listen("metrics", "127.0.0.1:0",
                               {{"/healthz",
                                 [](HttpRespond r) {
                                   r(HttpAnswer{200, "text/plain", "ok\n"});
                                 }},
                                {"/slow", [this](HttpRespond r) {
                                   std::lock_guard lock(mu);
                                   held.push_back(std::move(r));
                                 }}});
    EXPECT_TRUE(port) << port.error().message;
    return port ? *port : 0;
  }
  double open_connections() {
    return testing::metric_value(registry, "nodeguard_http_open_connections",
                                 {{"listener", "metrics"}});
  }
  // Polls `f` for up to 5 s: the server thread updates its counters after the client sees EOF.
  static bool eventually(const std::function<bool()>& f) {
    for (int i = 0; i < 500; ++i) {
      if (f()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return f();
  }
  double shed(const std::string& reason) {
    return testing::metric_value(registry, "nodeguard_http_connections_shed_total",
                                 {{"listener", "metrics"}, {"reason", reason}});
  }

  prometheus::Registry registry;
  std::unique_ptr<HttpServer> server;
  std::mutex mu;
  std::vector<HttpRespond> held;
};

TEST_F(HttpServerTest, IdleConnectionsAndSlowAnswersHoldUpNobody) {
  HttpLimits limits;
  limits.max_connections = 1000;
  limits.max_connections_per_client = 1000;
  limits.header_timeout = 60s;
  const int port = start(limits);
  std::vector<std::unique_ptr<IdleClient>> idle;
  for (int i = 0; i < 200; ++i) {
    idle.push_back(std::make_unique<IdleClient>(port));
    ASSERT_TRUE(idle.back()->connected());
  }
  // A request whose answer never comes (a stuck handler) does not hold the others either.
  IdleClient slow(port, "GET /slow HTTP/1.1\r\n\r\n");
  const auto r = testing::http_get(port, "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
  EXPECT_EQ(testing::http_get(port, "/nothing").status, 404);
  EXPECT_EQ(testing::http_request(port, "POST", "/healthz").status, 405);
  // Nothing was shed: all 200 still sit there.
  EXPECT_FALSE(idle.front()->closed_by_server(0ms));
  EXPECT_EQ(shed("client_limit") + shed("total_limit") + shed("header_timeout"), 0);
  // 200 idle and the slow one; the answered ones are closed (the count follows the close).
  EXPECT_TRUE(eventually([&] { return open_connections() == 201; })) << open_connections();
  // The held answer arrives from another thread and is written.
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(held.size(), 1u);
    held[0](HttpAnswer{200, "text/plain", "late\n"});
  }
  ASSERT_TRUE(slow.closed_by_server(5s));
  EXPECT_NE(slow.reply().find("late\n"), std::string::npos);
}

TEST_F(HttpServerTest, AClientOverItsLimitLosesItsOwnOldestIdleConnection) {
  HttpLimits limits;
  limits.max_connections_per_client = 4;
  limits.header_timeout = 60s;
  const int port = start(limits);
  std::vector<std::unique_ptr<IdleClient>> idle;
  for (int i = 0; i < 6; ++i) idle.push_back(std::make_unique<IdleClient>(port));
  EXPECT_TRUE(idle[0]->closed_by_server(5s));
  EXPECT_TRUE(idle[1]->closed_by_server(5s));
  // The probe from the same address still gets in (it displaces the next oldest idle one).
  EXPECT_EQ(testing::http_get(port, "/healthz").status, 200);
  EXPECT_TRUE(idle[2]->closed_by_server(5s));
  EXPECT_FALSE(idle[5]->closed_by_server(0ms));
  EXPECT_EQ(shed("client_limit"), 3);
}

TEST_F(HttpServerTest, TheTotalLimitShedsTheOldestIdleConnection) {
  HttpLimits limits;
  limits.max_connections = 8;
  limits.max_connections_per_client = 100;
  limits.header_timeout = 60s;
  const int port = start(limits);
  std::vector<std::unique_ptr<IdleClient>> idle;
  for (int i = 0; i < 10; ++i) idle.push_back(std::make_unique<IdleClient>(port));
  EXPECT_TRUE(idle[0]->closed_by_server(5s));
  EXPECT_TRUE(idle[1]->closed_by_server(5s));
  EXPECT_EQ(testing::http_get(port, "/healthz").status, 200);
  EXPECT_EQ(shed("total_limit"), 3);
}

TEST_F(HttpServerTest, AHeadNotSentInTimeIsClosed) {
  HttpLimits limits;
  limits.header_timeout = 200ms;
  const int port = start(limits);
  IdleClient idle(port);
  EXPECT_TRUE(idle.closed_by_server(10s));
  EXPECT_EQ(shed("header_timeout"), 1);
  EXPECT_EQ(testing::http_get(port, "/healthz").status, 200);
}

TEST_F(HttpServerTest, OversizedAndMalformedHeadsGetAnError) {
  HttpLimits limits;
  limits.max_header_bytes = 1024;
  const int port = start(limits);
  IdleClient big(port, "GET /healthz HTTP/1.1\r\nX-Junk: " + std::string(2000, 'a'));
  ASSERT_TRUE(big.closed_by_server(10s));
  EXPECT_EQ(big.reply().rfind("HTTP/1.1 431 ", 0), 0u) << big.reply();
  IdleClient bad(port, "GARBAGE\r\n\r\n");
  ASSERT_TRUE(bad.closed_by_server(10s));
  EXPECT_EQ(bad.reply().rfind("HTTP/1.1 400 ", 0), 0u) << bad.reply();
  EXPECT_EQ(shed("header_too_large"), 1);
  EXPECT_EQ(shed("bad_request"), 1);
}

TEST_F(HttpServerTest, StopClosesEverything) {
  const int port = start({});
  IdleClient idle(port);
  server->stop();
  EXPECT_TRUE(idle.closed_by_server(5s));
  EXPECT_EQ(testing::http_get(port, "/healthz").status, 0);
}

}  // namespace
}  // namespace ng::agent
