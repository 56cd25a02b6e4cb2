#include "tools/ngctl/diagnose.h"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace ng::ngctl {
namespace {

constexpr char kHttp2Preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool split_host_port(const std::string& addr, std::string* host, std::string* port) {
  if (!addr.empty() && addr.front() == '[') {
    const auto close = addr.find(']');
    if (close == std::string::npos || close + 2 > addr.size() || addr[close + 1] != ':') {
      return false;
    }
    *host = addr.substr(1, close - 1);
    *port = addr.substr(close + 2);
    return true;
  }
  const auto colon = addr.rfind(':');
  if (colon == std::string::npos) return false;
  *host = addr.substr(0, colon);
  *port = addr.substr(colon + 1);
  return !port->empty();
}

void set_timeouts(int fd, std::chrono::milliseconds timeout) {
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// Blocking connect bounded by the timeout; -1 and errno on failure.
int connect_tcp(const std::string& host, const std::string& port,
                std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || !res) {
    errno = EHOSTUNREACH;
    return -1;
  }
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    ::freeaddrinfo(res);
    return -1;
  }
  int rc = ::connect(fd, res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
    int err = rc == 0 ? ETIMEDOUT : 0;
    socklen_t len = sizeof err;
    if (rc > 0) ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    rc = err == 0 ? 0 : -1;
    errno = err;
  }
  if (rc != 0) {
    const int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  set_timeouts(fd, timeout);
  return fd;
}

std::string openssl_error() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(e);
    if (reason) out = reason;  // the last one is the most specific
  }
  return out;
}

Diagnosis explain_tls(const std::string& error, long verify_result) {
  auto has = [&](const char* s) { return error.find(s) != std::string::npos; };
  if (has("certificate required")) {
    return {true,
            "the agent requires a client certificate (mutual TLS): pass --tls-cert and "
            "--tls-key"};
  }
  if (has("unknown ca") || has("bad certificate") || has("certificate unknown") ||
      has("unsupported certificate") || has("certificate expired") || has("certificate revoked") ||
      has("access denied") || has("decrypt error")) {
    return {true, "the agent does not accept your client certificate (" + error +
                      "): it must be valid and signed by the agent's client CA "
                      "(api.tls_client_ca)"};
  }
  if (has("certificate verify failed")) {
    std::string why = X509_verify_cert_error_string(verify_result);
    if (verify_result == X509_V_ERR_HOSTNAME_MISMATCH) {
      return {true, "the agent's certificate does not name this address (" + why +
                        "): use --tls-server-name with a name in its certificate"};
    }
    return {true, "cannot verify the agent's certificate with --tls-ca (" + why + ")"};
  }
  if (has("wrong version number") || has("packet length too long") || has("unexpected eof")) {
    return {false, "the address does not speak TLS (" + error + ")"};
  }
  return {false, error.empty() ? "" : "TLS: " + error};
}

}  // namespace

Diagnosis diagnose_tls(const ClientOptions& opts, const std::string& addr,
                       std::chrono::milliseconds timeout) {
  std::string host, port;
  if (!split_host_port(addr, &host, &port)) return {false, "not HOST:PORT: " + addr};
  Fd sock{connect_tcp(host, port, timeout)};
  if (sock.fd < 0) return {false, std::strerror(errno)};

  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  if (!ctx) return {};
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (!opts.tls_ca.empty()) {
    if (SSL_CTX_load_verify_locations(ctx.get(), opts.tls_ca.c_str(), nullptr) != 1) {
      return {false, "cannot load --tls-ca " + opts.tls_ca + ": " + openssl_error()};
    }
  } else {
    SSL_CTX_set_default_verify_paths(ctx.get());
  }
  if (!opts.tls_cert.empty() &&
      (SSL_CTX_use_certificate_chain_file(ctx.get(), opts.tls_cert.c_str()) != 1 ||
       SSL_CTX_use_PrivateKey_file(ctx.get(), opts.tls_key.c_str(), SSL_FILETYPE_PEM) != 1)) {
    return {false, "cannot load --tls-cert/--tls-key: " + openssl_error()};
  }
  static const unsigned char kAlpn[] = {2, 'h', '2'};
  SSL_CTX_set_alpn_protos(ctx.get(), kAlpn, sizeof kAlpn);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  const std::string name = opts.tls_server_name.empty() ? host : opts.tls_server_name;
  SSL_set_tlsext_host_name(ssl.get(), name.c_str());
  // gRPC checks the name too (an IP against IP SANs, a name against DNS SANs).
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
  if (X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) != 1) {
    ERR_clear_error();
    X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
  }
  SSL_set_fd(ssl.get(), sock.fd);
  ERR_clear_error();
  if (SSL_connect(ssl.get()) != 1) {
    return explain_tls(openssl_error(), SSL_get_verify_result(ssl.get()));
  }
  // TLS 1.3: the server judges our certificate after we finished; its verdict comes as an
  // alert on the first read. A server that accepts us answers the preface with SETTINGS.
  (void)SSL_write(ssl.get(), kHttp2Preface, sizeof kHttp2Preface - 1);
  char buf[64];
  ERR_clear_error();
  if (SSL_read(ssl.get(), buf, sizeof buf) > 0) return {};
  const std::string error = openssl_error();
  if (error.find("alert") != std::string::npos) {
    return explain_tls(error, SSL_get_verify_result(ssl.get()));
  }
  // We trusted the agent and finished our side of the handshake; it hung up without a word
  // (gRPC does not send the alert): it did not accept our client certificate, or its absence.
  if (opts.tls_cert.empty()) {
    return {true,
            "the agent requires a client certificate (mutual TLS): pass --tls-cert and "
            "--tls-key"};
  }
  return {true,
          "the agent does not accept your client certificate: it must be signed by the "
          "agent's client CA (api.tls_client_ca), be valid now, and allow client auth"};
}

Diagnosis diagnose_unix(const std::string& path, std::chrono::milliseconds timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return {false, "socket path too long"};
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  Fd sock{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (sock.fd < 0) return {};
  if (::connect(sock.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno == EACCES || errno == EPERM) {
      return {true, "permission denied on " + path +
                        " (the socket is mode 0600: run ngctl as root, or as the agent's user)"};
    }
    return {false, std::strerror(errno)};
  }
  set_timeouts(sock.fd, timeout);
  (void)::send(sock.fd, kHttp2Preface, sizeof kHttp2Preface - 1, MSG_NOSIGNAL);
  char buf[64];
  const ssize_t n = ::read(sock.fd, buf, sizeof buf);
  if (n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE))) {
    return {true, "the agent closed the connection at once: your uid " +
                      std::to_string(::getuid()) + " is not in its api.allowed_uids"};
  }
  return {};
}

}  // namespace ng::ngctl
