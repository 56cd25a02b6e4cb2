#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "core/log.h"
#include "core/result.h"

namespace ng::agent {

// What one listener lets a client hold. A connection still sending its request head is
// "pending": it is the one shed when a limit is hit, oldest first, so a client that opens
// connections and sends nothing only ever displaces its own (or the oldest idle) ones.
struct HttpLimits {
  std::size_t max_connections = 256;               // per listener
  std::size_t max_connections_per_client = 16;     // per listener and peer address
  std::chrono::milliseconds header_timeout{3000};  // the whole request head, not per byte
  std::chrono::milliseconds write_timeout{10000};  // the whole response
  std::size_t max_header_bytes = 8192;
};

struct HttpAnswer {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
};

// Hands the answer back; callable once, from any thread.
using HttpRespond = std::function<void(HttpAnswer)>;
// A GET (and HEAD) handler, called on the server thread: it must not block. Slow work goes to
// another thread that calls respond when done.
using HttpRoute = std::function<void(HttpRespond)>;

// A small event-driven HTTP/1.1 server on its own thread (Boost.Asio): one thread holds any
// number of idle or slow connections, so a client that opens many and sends nothing delays
// nobody else. Every response closes its connection. Read-only: GET and HEAD, other methods 405.
// Shed connections are counted in nodeguard_http_connections_shed_total{listener,reason}.
class HttpServer {
 public:
  HttpServer(HttpLimits limits, prometheus::Registry& metrics, core::Logger log);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds HOST:PORT (empty host: all addresses; port 0 picks a free one) and serves `routes`
  // (exact paths) there; `name` labels its metrics ("metrics", "health"). Returns the bound
  // port. The server thread starts with the first listener.
  core::Result<int> listen(const std::string& name, const std::string& host_port,
                           std::map<std::string, HttpRoute> routes);
  // Closes every listener and connection and joins the thread. Idempotent.
  void stop();

 private:
  struct Listener;
  class Connection;

  void accept(const std::shared_ptr<Listener>& l);
  void admit(const std::shared_ptr<Listener>& l, boost::asio::ip::tcp::socket socket);

  HttpLimits limits_;
  core::Logger log_;
  prometheus::Family<prometheus::Counter>& shed_;
  prometheus::Family<prometheus::Gauge>& open_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::shared_ptr<Listener>> listeners_;  // touched on the server thread once running
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace ng::agent
