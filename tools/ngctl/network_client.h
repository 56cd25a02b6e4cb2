#pragma once

#include <memory>

#include "nodeguard/v1/network.grpc.pb.h"
#include "tools/ngctl/connection.h"

namespace ng::ngctl {

// A stub for nodeguard.v1.Network, or null with the reason printed and *exit_code set.
inline std::unique_ptr<nodeguard::v1::Network::Stub> network_stub(const ClientOptions& opts,
                                                                  int* exit_code) {
  auto channel = open_channel(opts);  // prints the reason when TLS files are unusable
  if (!channel) {
    *exit_code = kExitUsage;
    return nullptr;
  }
  return nodeguard::v1::Network::NewStub(channel);
}

}  // namespace ng::ngctl
