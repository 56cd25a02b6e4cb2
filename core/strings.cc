#include "core/strings.h"

namespace ng::core {

namespace {
bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
}  // namespace

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

std::string join(const std::vector<std::string>& v, std::string_view sep, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < v.size() && i < max; ++i) {
    if (i) out += sep;
    out += v[i];
  }
  if (v.size() > max) {
    out += sep;
    out += "... (" + std::to_string(v.size() - max) + " more)";
  }
  return out;
}

}  // namespace ng::core
