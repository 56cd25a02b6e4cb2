#pragma once

#include <cctype>
#include <string_view>

namespace ng::probes::bgp {

// Whitespace helpers shared by the BIRD reply parsers (BIRD aligns columns with spaces and
// indents attributes with tabs).
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits off the next whitespace-separated token; `s` keeps the rest.
inline std::string_view next_token(std::string_view& s) {
  s = trim(s);
  size_t end = 0;
  while (end < s.size() && !std::isspace(static_cast<unsigned char>(s[end]))) ++end;
  auto tok = s.substr(0, end);
  s.remove_prefix(end);
  return tok;
}

}  // namespace ng::probes::bgp
