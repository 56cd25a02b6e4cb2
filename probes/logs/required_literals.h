#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ng::probes::logs {

// Literals one of which occurs in every match of `pattern` (Hyperscan/PCRE syntax, compiled
// with no flags), e.g. "[Nn]o such host" -> {"No such host", "no such host"} and
// "Stale (file|NFS file) handle" -> {"Stale file handle", "Stale NFS file handle"}; one long
// literal is preferred to many variants ("[Nn]o space left on device" -> {"o space left on
// device"}). The chunk prefilter scans for these instead of the full patterns: Hyperscan scans a
// literal set faster than the regexes it comes from (~0.5 vs ~0.72 s per GiB for the
// benchmark's 100 rules), and a line whose message holds no literal of a rule cannot match it.
// Pure; nullopt when the pattern has no such set or uses syntax this reader does not follow (inline
// flags, \Q..\E, back-references, look-around, ...): the caller then prefilters with the pattern
// itself. Every returned set is non-empty, holds no empty string and no string containing another
// one of the set.
std::optional<std::vector<std::string>> required_literals(std::string_view pattern);

}  // namespace ng::probes::logs
