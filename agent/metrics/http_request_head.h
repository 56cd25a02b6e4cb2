#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ng::agent {

// The request line of an HTTP/1.x request head: all the metrics and health endpoints look at.
// Headers are not interpreted (every answer closes the connection; no request has a body).
struct HttpRequestHead {
  std::string method;  // "GET", "HEAD", ...
  std::string path;    // the target without its query string ("/metrics")
};

// Parses the bytes up to and including the blank line that ends a request head. nullopt when the
// request line is malformed (not "METHOD SP TARGET SP HTTP/1.x", control bytes, an absolute or
// empty target): the server answers 400. Pure, fuzzed.
std::optional<HttpRequestHead> parse_request_head(std::string_view head);

}  // namespace ng::agent
