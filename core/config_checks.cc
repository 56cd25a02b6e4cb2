#include <arpa/inet.h>

#include <cmath>
#include <cstdlib>

#include "core/config_binder.h"

namespace ng::core {

Check<std::int64_t> int_range(std::int64_t lo, std::int64_t hi) {
  return [lo, hi](const std::int64_t& v) -> std::optional<std::string> {
    if (v < lo || v > hi) {
      return "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " +
             std::to_string(v);
    }
    return std::nullopt;
  };
}

Check<double> double_range(double lo, double hi) {
  return [lo, hi](const double& v) -> std::optional<std::string> {
    if (!(v >= lo && v <= hi)) {
      return "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
    }
    return std::nullopt;
  };
}

Check<Millis> duration_range(Millis lo, Millis hi) {
  return [lo, hi](const Millis& v) -> std::optional<std::string> {
    if (v < lo || v > hi) {
      return "must be between " + format_duration(lo) + " and " + format_duration(hi) + ", got " +
             format_duration(v);
    }
    return std::nullopt;
  };
}

Check<std::string> one_of(std::vector<std::string> allowed) {
  return [allowed = std::move(allowed)](const std::string& v) -> std::optional<std::string> {
    for (const auto& a : allowed) {
      if (a == v) return std::nullopt;
    }
    std::string msg = "must be one of ";
    for (size_t i = 0; i < allowed.size(); ++i) {
      msg += (i ? ", " : "") + allowed[i];
    }
    return msg + "; got \"" + v + "\"";
  };
}

std::optional<HostPort> parse_host_port(std::string_view s) {
  HostPort hp;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return std::nullopt;
    }
    hp.host = std::string(s.substr(1, close - 1));
    port = s.substr(close + 2);
  } else {
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    hp.host = std::string(s.substr(0, colon));
    if (hp.host.find(':') != std::string::npos) return std::nullopt;  // bare v6 needs brackets
    port = s.substr(colon + 1);
  }
  if (port.empty() || port.size() > 5) return std::nullopt;
  int p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return std::nullopt;
    p = p * 10 + (c - '0');
  }
  if (p < 0 || p > 65535) return std::nullopt;
  hp.port = p;
  return hp;
}

Check<std::string> host_port(bool allow_empty) {
  return [allow_empty](const std::string& v) -> std::optional<std::string> {
    if (v.empty()) {
      if (allow_empty) return std::nullopt;
      return "must not be empty";
    }
    if (!parse_host_port(v)) {
      return "must be HOST:PORT, [IPv6]:PORT or :PORT with a port 0-65535; got \"" + v + "\"";
    }
    return std::nullopt;
  };
}

Check<std::string> absolute_path(bool allow_empty) {
  return [allow_empty](const std::string& v) -> std::optional<std::string> {
    if (v.empty()) {
      if (allow_empty) return std::nullopt;
      return "must not be empty";
    }
    if (v.front() != '/') return "must be an absolute path; got \"" + v + "\"";
    return std::nullopt;
  };
}

Check<std::string> ip_address() {
  return [](const std::string& v) -> std::optional<std::string> {
    unsigned char buf[16];
    if (inet_pton(AF_INET, v.c_str(), buf) == 1 || inet_pton(AF_INET6, v.c_str(), buf) == 1) {
      return std::nullopt;
    }
    return "must be an IPv4 or IPv6 address; got \"" + v + "\"";
  };
}

Check<std::string> cidr() {
  return [](const std::string& v) -> std::optional<std::string> {
    const auto slash = v.find('/');
    const std::string bad = "must be a CIDR like 10.244.0.0/24 or fd00::/64; got \"" + v + "\"";
    if (slash == std::string::npos) return bad;
    const std::string addr = v.substr(0, slash);
    const std::string len = v.substr(slash + 1);
    if (len.empty() || len.size() > 3) return bad;
    for (char c : len) {
      if (c < '0' || c > '9') return bad;
    }
    const int bits = std::atoi(len.c_str());
    unsigned char buf[16];
    if (inet_pton(AF_INET, addr.c_str(), buf) == 1)
      return bits <= 32 ? std::nullopt : std::optional(bad);
    if (inet_pton(AF_INET6, addr.c_str(), buf) == 1)
      return bits <= 128 ? std::nullopt : std::optional(bad);
    return bad;
  };
}

Check<std::string> not_empty() {
  return [](const std::string& v) -> std::optional<std::string> {
    if (v.empty()) return "must not be empty";
    return std::nullopt;
  };
}

std::optional<Millis> parse_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  const std::string num(s.substr(0, i));
  const std::string_view unit = s.substr(i);
  char* end = nullptr;
  const double v = std::strtod(num.c_str(), &end);
  if (end != num.c_str() + num.size() || !std::isfinite(v) || v < 0) return std::nullopt;
  double ms = 0;
  if (unit == "ms") {
    ms = v;
  } else if (unit == "s") {
    ms = v * 1000;
  } else if (unit == "m") {
    ms = v * 60000;
  } else if (unit == "h") {
    ms = v * 3600000;
  } else {
    return std::nullopt;
  }
  if (ms > 1e15) return std::nullopt;
  return Millis(static_cast<std::int64_t>(std::llround(ms)));
}

std::string format_duration(Millis d) {
  const auto ms = d.count();
  if (ms != 0 && ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
  if (ms != 0 && ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace ng::core
