#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace ng::core {

// s without leading and trailing ASCII blanks (space, tab, CR, LF).
std::string_view trim(std::string_view s);

// v joined with sep. Past `max` items the rest is summarised, "<sep>... (N more)", so that a
// message naming chains, pods or interfaces stays bounded on a node with thousands of them.
std::string join(const std::vector<std::string>& v, std::string_view sep,
                 std::size_t max = std::numeric_limits<std::size_t>::max());

}  // namespace ng::core
