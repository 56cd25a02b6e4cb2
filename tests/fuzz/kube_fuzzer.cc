// The Kubernetes client's parsers of bytes from outside: a Node from the API, a kubeconfig (a
// file an operator hands the agent), an EndpointSliceList (ngctl fleet --endpoints), the
// base64 of *-data fields and server URLs. The first byte picks the parser. None may crash;
// what parses must be usable (a node's conditions have types).
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/kube/kube_connection.h"
#include "agent/kube/node_json.h"
#include "tools/ngctl/fleet_endpoints.h"

namespace {

// A kubeconfig may name files; in the fuzzer none exist.
class NoFiles final : public ng::core::Files {
 public:
  ng::core::Result<std::string> read(const std::string& p) override {
    return ng::core::EnvError{ng::core::EnvErrorKind::kNotFound, p};
  }
  ng::core::Status write_atomic(const std::string&, std::string_view) override {
    return ng::core::Ok{};
  }
  ng::core::Status make_dirs(const std::string&) override { return ng::core::Ok{}; }
  ng::core::Status remove(const std::string&) override { return ng::core::Ok{}; }
  ng::core::Result<std::vector<std::string>> list(const std::string&) override {
    return std::vector<std::string>{};
  }
  bool exists(const std::string&) override { return false; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto node = ng::agent::kube::parse_node(in);
      if (node.ok()) {
        for (const auto& [type, c] : node->conditions) {
          if (type.empty() || type != c.type) __builtin_trap();
        }
        (void)ng::agent::kube::reconcile_taints(node->taints, {{"nodeguard.io/X", "NoSchedule"}},
                                                "nodeguard.io/", "t");
      }
      break;
    }
    case 1: {
      NoFiles files;
      (void)ng::agent::kube::parse_kubeconfig(in, "/k/config", files);
      break;
    }
    case 2: {
      std::string next, err;
      ng::ngctl::EndpointsSpec spec{"ns", "svc", "grpc"};
      for (const auto& t : ng::ngctl::parse_endpoint_slices(in, spec, "", &next, &err)) {
        if (!ng::ngctl::is_host_port(t.address)) __builtin_trap();
      }
      break;
    }
    default:
      (void)ng::agent::kube::base64_decode(in);
      (void)ng::agent::kube::parse_server_url(in);
      break;
  }
  return 0;
}
