#include "core/ip_prefix.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace ng::core {
namespace {

void clear_host_bits(IpAddress& a, int length) {
  const int total = a.bits() / 8;
  for (int i = 0; i < total; ++i) {
    const int keep = length - i * 8;
    if (keep >= 8) continue;
    a.bytes[i] = keep <= 0 ? 0 : static_cast<std::uint8_t>(a.bytes[i] & (0xFF << (8 - keep)));
  }
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buf[64];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress a;
  if (text.find(':') == std::string_view::npos) {
    if (::inet_pton(AF_INET, buf, a.bytes.data()) != 1) return std::nullopt;
    a.family = IpFamily::kV4;
  } else {
    if (::inet_pton(AF_INET6, buf, a.bytes.data()) != 1) return std::nullopt;
    a.family = IpFamily::kV6;
  }
  return a;
}

IpAddress IpAddress::v4(std::uint32_t host_order) {
  IpAddress a;
  a.bytes[0] = static_cast<std::uint8_t>(host_order >> 24);
  a.bytes[1] = static_cast<std::uint8_t>(host_order >> 16);
  a.bytes[2] = static_cast<std::uint8_t>(host_order >> 8);
  a.bytes[3] = static_cast<std::uint8_t>(host_order);
  return a;
}

std::string IpAddress::to_string() const {
  if (family == IpFamily::kV4) {
    // By hand: glibc's inet_ntop formats IPv4 with sprintf, which dominated classification.
    char buf[16];
    char* p = buf;
    for (int i = 0; i < 4; ++i) {
      unsigned v = bytes[i];
      if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
      if (v >= 10) *p++ = static_cast<char>('0' + (v / 10) % 10);
      *p++ = static_cast<char>('0' + v % 10);
      if (i < 3) *p++ = '.';
    }
    return std::string(buf, p);
  }
  char buf[INET6_ADDRSTRLEN];
  ::inet_ntop(family == IpFamily::kV4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

bool IpAddress::is_link_local() const {
  if (family == IpFamily::kV4) return bytes[0] == 169 && bytes[1] == 254;
  return bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80;
}

bool IpAddress::is_loopback() const {
  if (family == IpFamily::kV4) return bytes[0] == 127;
  for (int i = 0; i < 15; ++i) {
    if (bytes[i] != 0) return false;
  }
  return bytes[15] == 1;
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text, bool allow_host_bits) {
  const auto slash = text.find('/');
  auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  int length = addr->bits();
  if (slash != std::string_view::npos) {
    const auto len_text = text.substr(slash + 1);
    const char* end = len_text.data() + len_text.size();
    auto [p, ec] = std::from_chars(len_text.data(), end, length);
    if (ec != std::errc() || p != end || len_text.empty() || length < 0 || length > addr->bits()) {
      return std::nullopt;
    }
  }
  IpPrefix out = of(*addr, length);
  if (!allow_host_bits && out.address != *addr) return std::nullopt;
  return out;
}

IpPrefix IpPrefix::of(const IpAddress& a, int length) {
  IpPrefix p{a, length};
  clear_host_bits(p.address, length);
  return p;
}

std::string IpPrefix::to_string() const {
  return address.to_string() + "/" + std::to_string(length);
}

bool IpPrefix::contains(const IpAddress& a) const {
  if (a.family != address.family) return false;
  const int full = length / 8;
  if (std::memcmp(a.bytes.data(), address.bytes.data(), full) != 0) return false;
  const int rest = length % 8;
  if (rest == 0) return true;
  const std::uint8_t mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (a.bytes[full] & mask) == (address.bytes[full] & mask);
}

size_t IpAddressHash::operator()(const IpAddress& a) const noexcept {
  // Two 64-bit words mixed (splitmix64 finaliser): cheap and well spread for table indexes.
  std::uint64_t w[2];
  std::memcpy(w, a.bytes.data(), sizeof w);
  std::uint64_t h = w[0] * 0x9E3779B97F4A7C15ull ^ (w[1] + static_cast<std::uint64_t>(a.family));
  h ^= h >> 30;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 27;
  h *= 0x94D049BB133111EBull;
  h ^= h >> 31;
  return static_cast<size_t>(h);
}

size_t IpPrefixHash::operator()(const IpPrefix& p) const noexcept {
  return IpAddressHash{}(p.address) * 31 + static_cast<size_t>(p.length);
}

}  // namespace ng::core
