#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace ng::testing {

// Dumps taken from real iptables (legacy and nft) in a namespace where the real bridge and
// portmap CNI plugins made a pod, plus kube-proxy-like rules (tests/unit/netfilter/data).
inline std::string netfilter_data(const std::string& name) {
  std::ifstream in(std::string(NG_NETFILTER_TEST_DATA) + "/" + name);
  if (!in) throw std::runtime_error("missing test data " + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace ng::testing
