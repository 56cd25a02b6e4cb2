#include "agent/api/call_policy.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <array>

namespace ng::agent {
namespace {

// The methods that change the node. Every other method of every service is read-only.
constexpr std::array<std::string_view, 3> kMutatingMethods = {
    "/nodeguard.v1.Netfilter/Repair",
    "/nodeguard.v1.Netfilter/Forget",
    "/nodeguard.v1.Network/SetExpectedPeers",
};

// Streaming methods of gRPC's own services, whose descriptors are not in the protobuf pool
// (the health service is built on upb).
constexpr std::array<std::string_view, 3> kLibraryStreamingMethods = {
    "/grpc.health.v1.Health/Watch",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
};

// Unary methods of gRPC's own services that are not in the protobuf pool either.
constexpr std::array<std::string_view, 1> kLibraryUnaryMethods = {
    "/grpc.health.v1.Health/Check",
};

// Methods that return what the node's workloads print (secrets included): the logs role.
constexpr std::array<std::string_view, 1> kLogMethods = {
    "/nodeguard.v1.Logs/TailLogs",
};

bool listed(std::string_view method, auto const& list) {
  return std::find(list.begin(), list.end(), method) != list.end();
}

}  // namespace

std::string method_descriptor_name(std::string_view full_method) {
  if (full_method.size() < 4 || full_method.front() != '/') return "";
  const auto slash = full_method.find('/', 1);
  if (slash == std::string_view::npos || slash == 1 || slash + 1 >= full_method.size()) return "";
  if (full_method.find('/', slash + 1) != std::string_view::npos) return "";
  return std::string(full_method.substr(1, slash - 1)) + "." +
         std::string(full_method.substr(slash + 1));
}

MethodTraits method_traits(std::string_view full_method) {
  MethodTraits t;
  for (auto m : kMutatingMethods) t.mutating = t.mutating || m == full_method;
  for (auto m : kLibraryStreamingMethods) t.streaming = t.streaming || m == full_method;
  t.known = t.streaming || listed(full_method, kLibraryUnaryMethods);
  if (!t.known) {
    // Every service compiled into the agent is in the generated pool; its descriptor says
    // whether a method streams, so a new streaming RPC needs no entry here. A name not in the
    // pool is unknown: gRPC answers UNIMPLEMENTED, and it is charged as a unary call.
    const std::string name = method_descriptor_name(full_method);
    if (!name.empty()) {
      const auto* method =
          google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(name);
      if (method) t.streaming = method->server_streaming() || method->client_streaming();
      t.known = method != nullptr;
    }
  }
  t.role = t.mutating                         ? Role::kMutating
           : listed(full_method, kLogMethods) ? Role::kLogs
                                              : Role::kReadOnly;
  return t;
}

std::string method_label(std::string_view full_method) {
  return method_traits(full_method).known ? std::string(full_method) : "unknown";
}

}  // namespace ng::agent
