#include "agent/metrics/http_request_head.h"

#include <algorithm>

namespace ng::agent {
namespace {

bool is_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

bool is_target_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f;  // visible ASCII: no spaces, controls or raw UTF-8
}

}  // namespace

std::optional<HttpRequestHead> parse_request_head(std::string_view head) {
  // Tolerate leading empty lines (RFC 9112 2.2).
  while (head.substr(0, 2) == "\r\n") head.remove_prefix(2);
  const auto eol = head.find("\r\n");
  if (eol == std::string_view::npos) return std::nullopt;
  const std::string_view line = head.substr(0, eol);
  const auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return std::nullopt;
  const auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return std::nullopt;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (method.size() > 16 || !std::all_of(method.begin(), method.end(), is_token_char)) {
    return std::nullopt;
  }
  if (target.front() != '/' || !std::all_of(target.begin(), target.end(), is_target_char)) {
    return std::nullopt;
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return std::nullopt;
  HttpRequestHead r;
  r.method = std::string(method);
  r.path = std::string(target.substr(0, target.find('?')));
  return r;
}

}  // namespace ng::agent
