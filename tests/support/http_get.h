#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace ng::testing {

struct HttpResponse {
  int status = 0;  // 0 when the connection failed
  std::string body;
};

// A minimal HTTP/1.1 client for loopback tests of the metrics endpoint.
inline HttpResponse http_request(int port, const std::string& method, const std::string& path) {
  HttpResponse r;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return r;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return r;
  }
  const std::string req = method + " " + path +
                          " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: "
                          "close\r\n\r\n";
  (void)::write(fd, req.data(), req.size());
  std::string raw;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) raw.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (raw.size() > 12 && raw.compare(0, 5, "HTTP/") == 0) r.status = std::stoi(raw.substr(9, 3));
  const auto split = raw.find("\r\n\r\n");
  if (split != std::string::npos) r.body = raw.substr(split + 4);
  return r;
}

inline HttpResponse http_get(int port, const std::string& path) {
  return http_request(port, "GET", path);
}

}  // namespace ng::testing
