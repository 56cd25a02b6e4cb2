#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ng::ngctl {

struct FleetTarget {
  std::string address;      // HOST:PORT or [v6]:PORT, what the channel dials
  std::string server_name;  // name to verify in the agent's certificate; empty: the host
};

// A targets file: one HOST:PORT per line; blank lines and '#' comments are skipped, duplicates
// dropped (first kept). Errors name the line.
std::vector<FleetTarget> parse_targets(std::string_view text, std::vector<std::string>* errors);

// Whether s is HOST:PORT with a port 1-65535 ([v6]:PORT for IPv6).
bool is_host_port(std::string_view s);

// A DNS name (NAME:PORT) resolved to every address it has: a headless Service's A/AAAA
// records, one per agent. The certificate is checked against NAME unless server_name is set.
std::vector<FleetTarget> resolve_targets(const std::string& name_port,
                                         const std::string& server_name, std::string* error);

}  // namespace ng::ngctl
