#include "tools/ngctl/fleet_endpoints.h"

#include <cstdlib>
#include <set>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "agent/kube/beast_transport.h"
#include "agent/kube/kube_connection.h"
#include "core/files.h"

namespace ng::ngctl {

using nlohmann::json;

bool parse_endpoints_spec(const std::string& s, EndpointsSpec* out, std::string* error) {
  const auto slash = s.find('/');
  const auto colon = s.find(':', slash == std::string::npos ? 0 : slash);
  if (slash == std::string::npos || slash == 0 || slash + 1 >= s.size() || colon == slash + 1) {
    *error = "--endpoints wants NAMESPACE/SERVICE[:PORT], got \"" + s + "\"";
    return false;
  }
  out->ns = s.substr(0, slash);
  out->service =
      s.substr(slash + 1, colon == std::string::npos ? std::string::npos : colon - slash - 1);
  if (colon != std::string::npos) out->port = s.substr(colon + 1);
  const bool numeric = out->port.find_first_not_of("0123456789") == std::string::npos;
  if (out->port.empty() || (numeric && (out->port.size() > 5 || std::stoi(out->port) < 1 ||
                                        std::stoi(out->port) > 65535))) {
    *error = "--endpoints: the port must be a name or 1-65535, in \"" + s + "\"";
    return false;
  }
  return true;
}

namespace {

std::string url_escape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// Typed reads that never throw: a field of another type counts as absent (json::value()
// throws on a type mismatch, found by fuzz_kube).
std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}
const json& arr(const json& j, const char* key) {
  static const json empty = json::array();
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : empty;
}

// The slice's port number for spec.port (a name, or a number used as is).
int slice_port(const json& slice, const std::string& want) {
  if (want.find_first_not_of("0123456789") == std::string::npos) {
    return want.size() <= 5 ? std::stoi(want) : 0;  // checked by parse_endpoints_spec
  }
  for (const auto& p : arr(slice, "ports")) {
    if (p.is_object() && str(p, "name") == want && p.contains("port") &&
        p["port"].is_number_integer()) {
      return p["port"].get<int>();
    }
  }
  return 0;
}

}  // namespace

std::vector<FleetTarget> parse_endpoint_slices(const std::string& body, const EndpointsSpec& spec,
                                               const std::string& server_name, std::string* next,
                                               std::string* error) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || str(j, "kind") != "EndpointSliceList" ||
      !j.contains("items") || !j["items"].is_array()) {
    *error = "the API did not answer with an EndpointSliceList";
    return {};
  }
  if (j.contains("metadata") && j["metadata"].is_object()) {
    *next = str(j["metadata"], "continue");
  }
  const std::string name =
      server_name.empty() ? spec.service + "." + spec.ns + ".svc" : server_name;
  std::vector<FleetTarget> out;
  std::set<std::string> seen;
  bool port_missing = false;
  for (const auto& slice : j["items"]) {
    if (!slice.is_object()) continue;
    const int port = slice_port(slice, spec.port);
    if (port <= 0 || port > 65535) {
      port_missing = true;
      continue;
    }
    const bool v6 = str(slice, "addressType") == "IPv6";
    for (const auto& ep : arr(slice, "endpoints")) {
      if (!ep.is_object()) continue;
      for (const auto& a : arr(ep, "addresses")) {
        if (!a.is_string()) continue;
        std::string addr = v6 ? "[" + a.get<std::string>() + "]" : a.get<std::string>();
        addr += ":" + std::to_string(port);
        if (is_host_port(addr) && seen.insert(addr).second) out.push_back({addr, name});
      }
    }
  }
  if (out.empty() && port_missing) {
    *error =
        "the slices of " + spec.ns + "/" + spec.service + " have no port \"" + spec.port + "\"";
  }
  return out;
}

std::vector<FleetTarget> discover_endpoints(const EndpointsSpec& spec,
                                            const std::string& kubeconfig,
                                            const std::string& server_name,
                                            std::chrono::milliseconds timeout, std::string* error) {
  core::PosixFiles files;
  agent::kube::Getenv env = [](const std::string& k) -> std::optional<std::string> {
    const char* v = std::getenv(k.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  std::string path = kubeconfig;
  if (path.empty() && !env("KUBERNETES_SERVICE_HOST") && !env("KUBECONFIG")) {
    if (auto home = env("HOME")) path = *home + "/.kube/config";  // as kubectl does
  }
  auto sel = agent::kube::select_connection("true", path, env, files);
  if (!sel.connection) {
    *error =
        "no Kubernetes API: " + (sel.error ? sel.error->message : std::string("not configured"));
    return {};
  }
  boost::asio::io_context io;
  auto transport = agent::kube::BeastTransport::create(io, *sel.connection, timeout);
  if (!transport) {
    *error = transport.error().message;
    return {};
  }
  std::vector<FleetTarget> out;
  std::string cont;
  for (int page = 0; page < 100; ++page) {  // 100 pages of 500 slices: far beyond any cluster
    std::string path_q = "/apis/discovery.k8s.io/v1/namespaces/" + spec.ns +
                         "/endpointslices?limit=500&labelSelector=kubernetes.io%2Fservice-name%3D" +
                         url_escape(spec.service) +
                         (cont.empty() ? "" : "&continue=" + url_escape(cont));
    agent::kube::KubeResponse answer;
    transport.value()->send({"GET", path_q, "", ""},
                            [&](agent::kube::KubeResponse r) { answer = std::move(r); });
    io.restart();
    io.run();
    if (answer.status != 200) {
      *error = "listing EndpointSlices of " + spec.ns + "/" + spec.service + ": " +
               (answer.status ? "HTTP " + std::to_string(answer.status) : answer.error);
      return {};
    }
    std::string next;
    auto got = parse_endpoint_slices(answer.body, spec, server_name, &next, error);
    if (!error->empty()) return {};
    out.insert(out.end(), got.begin(), got.end());
    if (next.empty()) break;
    cont = next;
  }
  if (out.empty()) *error = "the Service " + spec.ns + "/" + spec.service + " has no endpoints";
  return out;
}

}  // namespace ng::ngctl
