#include "agent/metrics/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "agent/metrics/http_request_head.h"
#include "core/config_binder.h"

namespace ng::agent {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

}  // namespace

// One bound port: its routes and the bookkeeping of its connections. Server thread only.
struct HttpServer::Listener {
  Listener(asio::io_context& io, std::string n, std::map<std::string, HttpRoute> r)
      : acceptor(io), name(std::move(n)), routes(std::move(r)) {}

  tcp::acceptor acceptor;
  std::string name;
  std::map<std::string, HttpRoute> routes;
  std::uint64_t next_id = 0;
  std::map<std::uint64_t, std::weak_ptr<Connection>> live;  // by id: oldest first
  std::map<std::string, std::size_t> per_client;            // open connections by peer address
  std::unique_ptr<asio::steady_timer> accept_retry;
  prometheus::Gauge* open = nullptr;
};

class HttpServer::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(HttpServer& server, std::shared_ptr<Listener> l, tcp::socket socket,
             std::string client, std::uint64_t id)
      : server_(server),
        listener_(std::move(l)),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        buffer_(server.limits_.max_header_bytes),
        client_(std::move(client)),
        id_(id) {}

  bool pending() const { return pending_; }
  const std::string& client() const { return client_; }

  void start() {
    timer_.expires_after(server_.limits_.header_timeout);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec && self->pending_) self->shed("header_timeout");
    });
    asio::async_read_until(socket_, buffer_, "\r\n\r\n",
                           [self = shared_from_this()](const boost::system::error_code& ec,
                                                       std::size_t n) { self->on_head(ec, n); });
  }

  // Closes and forgets the connection, counted as shed for `reason`.
  void shed(const char* reason) {
    if (closed_) return;
    server_.shed_.Add({{"listener", listener_->name}, {"reason", reason}}).Increment();
    close();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    pending_ = false;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    timer_.cancel();
    listener_->live.erase(id_);
    auto it = listener_->per_client.find(client_);
    if (it != listener_->per_client.end() && --it->second == 0) listener_->per_client.erase(it);
    listener_->open->Decrement();
  }

 private:
  void on_head(const boost::system::error_code& ec, std::size_t n) {
    if (closed_) return;
    if (ec == asio::error::not_found) {  // the head outgrew max_header_bytes
      pending_ = false;
      server_.shed_.Add({{"listener", listener_->name}, {"reason", "header_too_large"}})
          .Increment();
      write(HttpAnswer{431, "text/plain", "request head too large\n"});
      return;
    }
    if (ec) {
      close();
      return;
    }
    pending_ = false;
    timer_.cancel();
    const std::string head(asio::buffers_begin(buffer_.data()),
                           asio::buffers_begin(buffer_.data()) + static_cast<std::ptrdiff_t>(n));
    auto req = parse_request_head(head);
    if (!req) {
      server_.shed_.Add({{"listener", listener_->name}, {"reason", "bad_request"}}).Increment();
      write(HttpAnswer{400, "text/plain", "malformed request\n"});
      return;
    }
    head_only_ = req->method == "HEAD";
    if (req->method != "GET" && !head_only_) {
      write(HttpAnswer{405, "text/plain", "read-only endpoint\n"});
      return;
    }
    auto route = listener_->routes.find(req->path);
    if (route == listener_->routes.end()) {
      write(HttpAnswer{404, "text/plain", "not found\n"});
      return;
    }
    // The handler may answer from another thread: hop back to this one to write.
    route->second([self = shared_from_this()](HttpAnswer a) {
      asio::post(self->socket_.get_executor(),
                 [self, a = std::move(a)]() mutable { self->write(std::move(a)); });
    });
  }

  void write(HttpAnswer a) {
    if (closed_) return;
    out_head_ = "HTTP/1.1 " + std::to_string(a.status) + " " + reason_phrase(a.status) +
                "\r\nContent-Type: " + a.content_type +
                "\r\nContent-Length: " + std::to_string(a.body.size()) +
                "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
    out_body_ = head_only_ ? std::string() : std::move(a.body);
    timer_.expires_after(server_.limits_.write_timeout);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->shed("write_timeout");
    });
    std::vector<asio::const_buffer> bufs{asio::buffer(out_head_), asio::buffer(out_body_)};
    asio::async_write(socket_, bufs,
                      [self = shared_from_this()](const boost::system::error_code&, std::size_t) {
                        self->close();
                      });
  }

  HttpServer& server_;
  std::shared_ptr<Listener> listener_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  asio::streambuf buffer_;
  std::string client_;
  std::uint64_t id_;
  bool pending_ = true;  // still reading the request head
  bool closed_ = false;
  bool head_only_ = false;
  std::string out_head_, out_body_;
};

HttpServer::HttpServer(HttpLimits limits, prometheus::Registry& metrics, core::Logger log)
    : limits_(limits),
      log_(std::move(log)),
      shed_(prometheus::BuildCounter()
                .Name("nodeguard_http_connections_shed_total")
                .Help("Connections to the metrics and health endpoints closed without an answer "
                      "or with an error, by listener (metrics, health) and reason "
                      "(client_limit, total_limit, header_timeout, header_too_large, "
                      "bad_request, write_timeout).")
                .Register(metrics)),
      open_(prometheus::BuildGauge()
                .Name("nodeguard_http_open_connections")
                .Help("Connections open on the metrics and health endpoints, by listener.")
                .Register(metrics)),
      work_(asio::make_work_guard(io_)) {}

HttpServer::~HttpServer() {
  stop();
}

core::Result<int> HttpServer::listen(const std::string& name, const std::string& host_port,
                                     std::map<std::string, HttpRoute> routes) {
  auto hp = core::parse_host_port(host_port);
  if (!hp) {
    return core::EnvError{core::EnvErrorKind::kInvalidInput, "bad listen address " + host_port};
  }
  auto l = std::make_shared<Listener>(io_, name, std::move(routes));
  l->open = &open_.Add({{"listener", name}});
  for (const char* r : {"client_limit", "total_limit", "header_timeout", "header_too_large",
                        "bad_request", "write_timeout"}) {
    shed_.Add({{"listener", name}, {"reason", r}});
  }
  l->accept_retry = std::make_unique<asio::steady_timer>(io_);
  boost::system::error_code ec;
  const auto address = hp->host.empty() ? asio::ip::address(asio::ip::address_v4::any())
                                        : asio::ip::make_address(hp->host, ec);
  if (ec) {
    return core::EnvError{core::EnvErrorKind::kInvalidInput,
                          "cannot listen on " + host_port + ": not an IP address"};
  }
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(hp->port));
  l->acceptor.open(endpoint.protocol(), ec);
  if (!ec) l->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) l->acceptor.bind(endpoint, ec);
  if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return core::EnvError{core::EnvErrorKind::kUnavailable,
                          "cannot listen on " + host_port + ": " + ec.message()};
  }
  const int port = l->acceptor.local_endpoint().port();
  listeners_.push_back(l);
  asio::post(io_, [this, l] { accept(l); });
  if (!thread_.joinable()) thread_ = std::thread([this] { io_.run(); });
  return port;
}

void HttpServer::accept(const std::shared_ptr<Listener>& l) {
  l->acceptor.async_accept([this, l](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !l->acceptor.is_open()) return;
    if (ec) {
      // Out of file descriptors, say: pause rather than spin, and keep serving the open ones.
      log_.warn("http accept failed; retrying", {{"listener", l->name}, {"error", ec.message()}});
      l->accept_retry->expires_after(std::chrono::milliseconds(100));
      l->accept_retry->async_wait([this, l](const boost::system::error_code& e) {
        if (!e) accept(l);
      });
      return;
    }
    admit(l, std::move(socket));
    accept(l);
  });
}

void HttpServer::admit(const std::shared_ptr<Listener>& l, tcp::socket socket) {
  boost::system::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (ec) return;  // already gone
  const std::string client = peer.address().to_string();
  // The oldest connection still sending its head, of this client or of anyone.
  auto oldest_pending = [&](const std::string* of_client) -> std::shared_ptr<Connection> {
    for (auto& [id, weak] : l->live) {
      auto c = weak.lock();
      if (c && c->pending() && (!of_client || c->client() == *of_client)) return c;
    }
    return nullptr;
  };
  auto make_room = [&](bool full, const std::string* of_client, const char* reason) {
    if (!full) return true;
    if (auto victim = oldest_pending(of_client)) {
      victim->shed(reason);
      return true;
    }
    shed_.Add({{"listener", l->name}, {"reason", reason}}).Increment();
    return false;  // every connection is being answered: refuse the newcomer
  };
  auto it = l->per_client.find(client);
  const std::size_t mine = it == l->per_client.end() ? 0 : it->second;
  if (!make_room(mine >= limits_.max_connections_per_client, &client, "client_limit")) return;
  if (!make_room(l->live.size() >= limits_.max_connections, nullptr, "total_limit")) return;
  const std::uint64_t id = l->next_id++;
  auto c = std::make_shared<Connection>(*this, l, std::move(socket), client, id);
  l->live[id] = c;
  ++l->per_client[client];
  l->open->Increment();
  c->start();
}

void HttpServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (thread_.joinable()) {
    asio::post(io_, [this] {
      for (auto& l : listeners_) {
        boost::system::error_code ignored;
        l->acceptor.close(ignored);
        l->accept_retry->cancel();
        std::vector<std::shared_ptr<Connection>> all;
        for (auto& [id, weak] : l->live) {
          if (auto c = weak.lock()) all.push_back(c);
        }
        for (auto& c : all) c->close();
      }
      // No io_.stop(): the aborted operations still run, so an accept completed meanwhile
      // closes its socket now rather than when the io_context is destroyed.
      work_.reset();
    });
    thread_.join();
  }
  listeners_.clear();
}

}  // namespace ng::agent
