#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "agent/kube/kube_connection.h"
#include "agent/kube/kube_transport.h"
#include "core/result.h"

namespace ng::agent::kube {

namespace detail {
class Session;  // one request on its own connection (beast_transport.cc)
}

// HTTPS to the API server with Boost.Beast on the agent's io_context: every step (resolve,
// connect, TLS handshake with the server's certificate and name verified, write, read) is
// asynchronous, so the loop never waits for the network. One connection per request: the
// exporter writes a handful of requests a minute, and a fresh connection never carries a
// half-read answer from a timed-out request. Answers are capped (4 MiB body, 64 KiB head).
class BeastTransport final : public KubeTransport {
 public:
  static core::Result<std::unique_ptr<BeastTransport>> create(boost::asio::io_context& io,
                                                              KubeConnection conn,
                                                              core::Duration timeout);
  ~BeastTransport() override;

  void send(KubeRequest request, std::function<void(KubeResponse)> done) override;
  // Also closes the sockets and timers of requests in flight, so none is left waiting in the
  // io_context when it is destroyed (a Beast stream must not outlive its io_context's
  // services: a pending timer destroyed during the io_context's shutdown corrupts the heap).
  void shutdown() override;

  static constexpr size_t kMaxBody = 4 * 1024 * 1024;
  static constexpr size_t kMaxHeader = 64 * 1024;

 private:
  BeastTransport(boost::asio::io_context& io, KubeConnection conn, core::Duration timeout);
  // The bearer token; the file is read again when its modification time changes (kubelet
  // rotates projected tokens hourly by default).
  std::string bearer_token();

  boost::asio::io_context& io_;
  KubeConnection conn_;
  core::Duration timeout_;
  boost::asio::ssl::context ssl_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::vector<std::weak_ptr<detail::Session>> sessions_;  // in flight (pruned on send)
  std::string token_cache_;
  std::int64_t token_mtime_ = -1;
};

}  // namespace ng::agent::kube
