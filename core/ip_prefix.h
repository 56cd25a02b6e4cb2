#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ng::core {

enum class IpFamily : std::uint8_t { kV4 = 4, kV6 = 6 };

// An IPv4 or IPv6 address as bytes (IPv4 uses the first 4). Value type: cheap to copy, hash and
// compare, so route tables index on it without allocation.
struct IpAddress {
  IpFamily family = IpFamily::kV4;
  std::array<std::uint8_t, 16> bytes{};

  static std::optional<IpAddress> parse(std::string_view text);
  static IpAddress v4(std::uint32_t host_order);
  std::string to_string() const;
  int bits() const { return family == IpFamily::kV4 ? 32 : 128; }
  bool is_link_local() const;  // 169.254/16, fe80::/10
  bool is_loopback() const;    // 127/8, ::1
  bool operator==(const IpAddress&) const = default;
  auto operator<=>(const IpAddress&) const = default;
};

// A network: address with the host bits cleared, and a prefix length.
struct IpPrefix {
  IpAddress address;
  int length = 0;

  // "10.244.1.0/26", "fd00:10::/64"; a bare address is a host prefix. Host bits set is an error
  // unless `allow_host_bits` (then they are cleared), as for addresses on interfaces.
  static std::optional<IpPrefix> parse(std::string_view text, bool allow_host_bits = false);
  static IpPrefix of(const IpAddress& a, int length);  // clears host bits
  std::string to_string() const;
  IpFamily family() const { return address.family; }
  bool is_host() const { return length == address.bits(); }
  bool contains(const IpAddress& a) const;
  bool contains(const IpPrefix& p) const { return p.length >= length && contains(p.address); }
  bool overlaps(const IpPrefix& p) const { return contains(p) || p.contains(*this); }
  bool operator==(const IpPrefix&) const = default;
  auto operator<=>(const IpPrefix&) const = default;
};

struct IpAddressHash {
  size_t operator()(const IpAddress& a) const noexcept;
};
struct IpPrefixHash {
  size_t operator()(const IpPrefix& p) const noexcept;
};

}  // namespace ng::core
