#include "netfilter/cni/portmap_version.h"

#include <charconv>
#include <tuple>

namespace ng::netfilter::cni {

bool PortmapVersion::at_least(int ma, int mi, int pa) const {
  return std::tie(major, minor, patch) >= std::tie(ma, mi, pa);
}

std::string PortmapVersion::str() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

std::optional<PortmapVersion> parse_portmap_version(std::string_view text) {
  if (!text.empty() && text.front() == 'v') text.remove_prefix(1);
  int parts[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    const char* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, parts[i]);
    if (ec != std::errc() || p == text.data() || parts[i] < 0 || parts[i] > 999) {
      return std::nullopt;
    }
    text.remove_prefix(static_cast<size_t>(p - text.data()));
    if (i < 2) {
      if (text.empty() || text.front() != '.') return std::nullopt;
      text.remove_prefix(1);
    }
  }
  if (!text.empty()) return std::nullopt;
  PortmapVersion v{parts[0], parts[1], parts[2]};
  if (!v.at_least(0, 8, 6)) return std::nullopt;
  return v;
}

}  // namespace ng::netfilter::cni
