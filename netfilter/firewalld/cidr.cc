#include "netfilter/firewalld/cidr.h"

#include <arpa/inet.h>

#include <charconv>

namespace ng::netfilter::firewalld {

std::optional<Cidr> Cidr::parse(std::string_view text) {
  const auto slash = text.find('/');
  const std::string addr(text.substr(0, slash));
  Cidr c;
  c.v6 = addr.find(':') != std::string::npos;
  if (::inet_pton(c.v6 ? AF_INET6 : AF_INET, addr.c_str(), c.bytes.data()) != 1) {
    return std::nullopt;
  }
  const int bits = c.v6 ? 128 : 32;
  c.length = bits;
  if (slash != std::string_view::npos) {
    const auto len = text.substr(slash + 1);
    int n = -1;
    const auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), n);
    if (ec != std::errc() || end != len.data() + len.size() || n < 0 || n > bits) {
      return std::nullopt;
    }
    c.length = n;
  }
  return c;
}

bool Cidr::contains(const Cidr& inner) const {
  if (v6 != inner.v6 || inner.length < length) return false;
  const int full = length / 8;
  for (int i = 0; i < full; ++i) {
    if (bytes[i] != inner.bytes[i]) return false;
  }
  const int rest = length % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (bytes[full] & mask) == (inner.bytes[full] & mask);
}

std::string Cidr::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(length);
}

}  // namespace ng::netfilter::firewalld
