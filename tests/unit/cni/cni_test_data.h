#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "netfilter/save_codec.h"

namespace ng::testing {

inline std::string cni_data(const std::string& name) {
  std::ifstream in(std::string(NG_CNI_TEST_DATA) + "/" + name);
  if (!in) throw std::runtime_error("missing test data " + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<std::string> cni_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) out.push_back(l);
  }
  return out;
}

// A conflist as a node holds it: bridge + host-local + portmap (with `portmap` merged in).
inline nlohmann::json conflist(const std::string& name, const nlohmann::json& portmap = {},
                               const std::string& version = "1.0.0") {
  nlohmann::json pm = {{"type", "portmap"}, {"capabilities", {{"portMappings", true}}}};
  if (portmap.is_object()) pm.update(portmap);
  return {{"cniVersion", version},
          {"name", name},
          {"plugins",
           {{{"type", "bridge"},
             {"bridge", "cni0"},
             {"isGateway", true},
             {"ipam", {{"type", "host-local"}, {"subnet", "10.244.1.0/24"}}}},
            pm}}};
}

// The cache file libcni writes after an ADD (cachedInfo, kind cniCacheV1).
inline nlohmann::json cache_file(const std::string& net, const std::string& id,
                                 const nlohmann::json& config, const nlohmann::json& mappings,
                                 const std::string& ip4 = "10.244.1.2/24",
                                 const std::string& ip6 = "",
                                 const std::string& netns = "/var/run/netns/cni-1234") {
  nlohmann::json ips = nlohmann::json::array();
  if (!ip4.empty()) ips.push_back({{"interface", 2}, {"address", ip4}, {"gateway", "10.244.1.1"}});
  if (!ip6.empty()) ips.push_back({{"interface", 2}, {"address", ip6}});
  nlohmann::json result = {{"cniVersion", "1.0.0"},
                           {"interfaces",
                            {{{"name", "cni0"}, {"mac", "aa:bb:cc:00:00:01"}},
                             {{"name", "veth1234"}, {"mac", "aa:bb:cc:00:00:02"}},
                             {{"name", "eth0"}, {"mac", "aa:bb:cc:00:00:03"}, {"sandbox", netns}}}},
                           {"ips", ips}};
  nlohmann::json f = {
      {"kind", "cniCacheV1"},
      {"containerId", id},
      {"config", netfilter::base64_encode(config.dump())},
      {"ifName", "eth0"},
      {"networkName", net},
      {"cniArgs", nlohmann::json::array({nlohmann::json::array({"IgnoreUnknown", "1"}),
                                         nlohmann::json::array({"K8S_POD_NAMESPACE", "default"})})},
      {"result", result}};
  if (!mappings.is_null()) f["capabilityArgs"] = {{"portMappings", mappings}};
  return f;
}

inline nlohmann::json mapping(int host, int container, const std::string& proto = "tcp",
                              const std::string& host_ip = "") {
  nlohmann::json m = {{"hostPort", host}, {"containerPort", container}, {"protocol", proto}};
  if (!host_ip.empty()) m["hostIP"] = host_ip;
  return m;
}

}  // namespace ng::testing
