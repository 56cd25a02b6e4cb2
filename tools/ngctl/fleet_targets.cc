#include "tools/ngctl/fleet_targets.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <algorithm>
#include <set>

#include "core/strings.h"

namespace ng::ngctl {
namespace {

using ng::core::trim;

bool split(std::string_view s, std::string_view* host, std::string_view* port) {
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return false;
    }
    *host = s.substr(1, close - 1);
    *port = s.substr(close + 2);
  } else {
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return false;
    *host = s.substr(0, colon);
    *port = s.substr(colon + 1);
    if (host->find(':') != std::string_view::npos) return false;  // bare IPv6 needs brackets
  }
  return true;
}

}  // namespace

bool is_host_port(std::string_view s) {
  std::string_view host, port;
  if (!split(s, &host, &port) || host.empty() || port.empty() || port.size() > 5) return false;
  if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  const int p = std::stoi(std::string(port));
  if (p < 1 || p > 65535) return false;
  return std::none_of(host.begin(), host.end(),
                      [](char c) { return c == ' ' || c == '/' || c == '\t'; });
}

std::vector<FleetTarget> parse_targets(std::string_view text, std::vector<std::string>* errors) {
  std::vector<FleetTarget> out;
  std::set<std::string> seen;
  size_t line_no = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (const auto hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = trim(line);
    if (line.empty()) continue;
    if (!is_host_port(line)) {
      errors->push_back("line " + std::to_string(line_no) + ": \"" + std::string(line) +
                        "\" is not HOST:PORT (IPv6: [ADDR]:PORT)");
      continue;
    }
    if (seen.insert(std::string(line)).second) out.push_back({std::string(line), ""});
  }
  return out;
}

std::vector<FleetTarget> resolve_targets(const std::string& name_port,
                                         const std::string& server_name, std::string* error) {
  std::string_view host, port;
  if (!is_host_port(name_port) || !split(name_port, &host, &port)) {
    *error = "--dns wants NAME:PORT, got \"" + name_port + "\"";
    return {};
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string h(host), p(port);
  if (const int rc = ::getaddrinfo(h.c_str(), p.c_str(), &hints, &res); rc != 0) {
    *error = "cannot resolve " + h + ": " + gai_strerror(rc);
    return {};
  }
  std::vector<FleetTarget> out;
  std::set<std::string> seen;
  for (auto* ai = res; ai; ai = ai->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {};
    std::string addr;
    if (ai->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr, buf, sizeof buf);
      addr = std::string(buf) + ":" + p;
    } else if (ai->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr, buf,
                sizeof buf);
      addr = "[" + std::string(buf) + "]:" + p;
    } else {
      continue;
    }
    if (seen.insert(addr).second) out.push_back({addr, server_name.empty() ? h : server_name});
  }
  ::freeaddrinfo(res);
  if (out.empty()) *error = h + " resolved to no addresses";
  return out;
}

}  // namespace ng::ngctl
