#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ng::netfilter::firewalld {

// An IPv4 or IPv6 network for firewalld source bindings and pod CIDRs: "10.244.0.0/16",
// "fd00:10::/56", or a bare address (a host prefix). Host bits are ignored.
struct Cidr {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};
  int length = 0;

  static std::optional<Cidr> parse(std::string_view text);
  // True when every address of `inner` is in this network (same family).
  bool contains(const Cidr& inner) const;
  std::string str() const;
};

}  // namespace ng::netfilter::firewalld
