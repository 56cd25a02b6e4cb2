#include "agent/kube/beast_transport.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace ng::agent::kube {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace detail {

// One request on its own connection; keeps itself alive through its handlers.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(asio::io_context& io, asio::ssl::context& ssl, const KubeConnection& conn,
          core::Duration timeout, std::shared_ptr<bool> alive,
          std::function<void(KubeResponse)> done)
      : resolver_(io),
        stream_(io, ssl),
        conn_(conn),
        timeout_(timeout),
        alive_(std::move(alive)),
        done_(std::move(done)) {}

  // Cancels every pending operation: the handlers complete (operation_aborted) and nothing
  // stays registered with the io_context's reactor or timer queue.
  void abort() {
    resolver_.cancel();
    beast::get_lowest_layer(stream_).close();
  }

  void run(http::request<http::string_body> req) {
    req_ = std::move(req);
    boost::system::error_code ec;
    asio::ip::make_address(conn_.host, ec);
    if (ec) {  // SNI only for names, as browsers and client-go do
      SSL_set_tlsext_host_name(stream_.native_handle(), conn_.host.c_str());
    }
    stream_.set_verify_mode(asio::ssl::verify_peer);
    stream_.set_verify_callback(asio::ssl::host_name_verification(conn_.host));
    beast::get_lowest_layer(stream_).expires_after(
        std::chrono::duration_cast<std::chrono::milliseconds>(timeout_));
    resolver_.async_resolve(conn_.host, conn_.port,
                            [self = shared_from_this()](auto ec, auto results) {
                              if (ec) return self->finish("resolve", ec);
                              self->connect(results);
                            });
  }

 private:
  void connect(const tcp::resolver::results_type& results) {
    beast::get_lowest_layer(stream_).async_connect(
        results, [self = shared_from_this()](auto ec, auto) {
          if (ec) return self->finish("connect", ec);
          self->stream_.async_handshake(asio::ssl::stream_base::client, [self](auto ec) {
            if (ec) return self->finish("tls handshake", ec);
            self->write();
          });
        });
  }

  void write() {
    http::async_write(stream_, req_, [self = shared_from_this()](auto ec, size_t) {
      if (ec) return self->finish("write", ec);
      self->parser_.body_limit(BeastTransport::kMaxBody);
      self->parser_.header_limit(BeastTransport::kMaxHeader);
      http::async_read(self->stream_, self->buffer_, self->parser_, [self](auto ec, size_t) {
        if (ec) return self->finish("read", ec);
        self->answered();
      });
    });
  }

  void answered() {
    auto& res = parser_.get();
    KubeResponse out;
    out.status = static_cast<int>(res.result_int());
    out.body = std::move(res.body());
    if (auto it = res.find(http::field::retry_after); it != res.end()) {
      std::string v(it->value());
      if (!v.empty() && v.find_first_not_of("0123456789") == std::string::npos && v.size() < 7) {
        out.retry_after = std::chrono::seconds(std::stoll(v));
      }
    }
    deliver(std::move(out));
    beast::get_lowest_layer(stream_).close();  // Connection: close; no TLS goodbye needed
  }

  void finish(const char* step, const boost::system::error_code& ec) {
    KubeResponse out;
    out.error = std::string(step) + ": " +
                (ec == beast::error::timeout ? std::string("timed out") : ec.message());
    deliver(std::move(out));
    beast::get_lowest_layer(stream_).close();
  }

  void deliver(KubeResponse r) {
    if (!*alive_ || !done_) return;
    auto done = std::move(done_);
    done_ = nullptr;
    done(std::move(r));
  }

  tcp::resolver resolver_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  KubeConnection conn_;  // a copy: a session may outlive the transport at shutdown
  core::Duration timeout_;
  std::shared_ptr<bool> alive_;
  std::function<void(KubeResponse)> done_;
  http::request<http::string_body> req_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
};

}  // namespace detail

core::Result<std::unique_ptr<BeastTransport>> BeastTransport::create(asio::io_context& io,
                                                                     KubeConnection conn,
                                                                     core::Duration timeout) {
  std::unique_ptr<BeastTransport> t(new BeastTransport(io, std::move(conn), timeout));
  boost::system::error_code ec;
  if (t->conn_.ca_pem.empty()) {
    t->ssl_.set_default_verify_paths(ec);
  } else {
    t->ssl_.add_certificate_authority(asio::buffer(t->conn_.ca_pem), ec);
  }
  if (ec) {
    return core::EnvError{core::EnvErrorKind::kInvalidInput,
                          "API server CA: " + ec.message() + " (" + t->conn_.source + ")"};
  }
  if (!t->conn_.client_cert_pem.empty()) {
    t->ssl_.use_certificate_chain(asio::buffer(t->conn_.client_cert_pem), ec);
    if (!ec) {
      t->ssl_.use_private_key(asio::buffer(t->conn_.client_key_pem), asio::ssl::context::pem, ec);
    }
    if (ec) {
      return core::EnvError{
          core::EnvErrorKind::kInvalidInput,
          "client certificate/key: " + ec.message() + " (" + t->conn_.source + ")"};
    }
  }
  return t;
}

BeastTransport::BeastTransport(asio::io_context& io, KubeConnection conn, core::Duration timeout)
    : io_(io), conn_(std::move(conn)), timeout_(timeout), ssl_(asio::ssl::context::tls_client) {
  ssl_.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1);
}

BeastTransport::~BeastTransport() {
  shutdown();
}

void BeastTransport::shutdown() {
  *alive_ = false;
  for (auto& w : sessions_) {
    if (auto s = w.lock()) s->abort();
  }
  sessions_.clear();
}

std::string BeastTransport::bearer_token() {
  if (conn_.token_file.empty()) return conn_.token;
  struct stat st {};
  if (::stat(conn_.token_file.c_str(), &st) != 0) return token_cache_;
  std::int64_t mtime =
      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  if (mtime != token_mtime_) {  // a few hundred bytes on tmpfs: cheap enough for the loop
    std::ifstream in(conn_.token_file);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string tok = ss.str();
    while (!tok.empty() && (tok.back() == '\n' || tok.back() == '\r' || tok.back() == ' ')) {
      tok.pop_back();
    }
    if (in || !tok.empty()) {
      token_cache_ = tok;
      token_mtime_ = mtime;
    }
  }
  return token_cache_;
}

void BeastTransport::send(KubeRequest request, std::function<void(KubeResponse)> done) {
  http::verb verb = http::string_to_verb(request.verb);
  http::request<http::string_body> req{verb, request.path, 11};
  const bool v6 = conn_.host.find(':') != std::string::npos;
  req.set(http::field::host, (v6 ? "[" + conn_.host + "]" : conn_.host) +
                                 (conn_.port == "443" ? "" : ":" + conn_.port));
  req.set(http::field::user_agent, "nodeguard");
  req.set(http::field::accept, "application/json");
  req.set(http::field::connection, "close");
  if (auto tok = bearer_token(); !tok.empty()) {
    req.set(http::field::authorization, "Bearer " + tok);
  }
  if (!request.body.empty() || verb != http::verb::get) {
    req.set(http::field::content_type,
            request.content_type.empty() ? "application/json" : request.content_type);
    req.body() = std::move(request.body);
    req.prepare_payload();
  }
  if (!*alive_) return;  // shut down: dropped, as the interface says
  auto s = std::make_shared<detail::Session>(io_, ssl_, conn_, timeout_, alive_, std::move(done));
  std::erase_if(sessions_, [](const auto& w) { return w.expired(); });
  sessions_.push_back(s);
  s->run(std::move(req));
}

}  // namespace ng::agent::kube
