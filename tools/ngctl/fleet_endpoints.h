#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "tools/ngctl/fleet_targets.h"

namespace ng::ngctl {

// `--endpoints NAMESPACE/SERVICE[:PORT]`: the Service's EndpointSlices as the API serves them
// (discovery.k8s.io/v1, label kubernetes.io/service-name). PORT is a port name of the slices
// (default "grpc") or a number.
struct EndpointsSpec {
  std::string ns;
  std::string service;
  std::string port = "grpc";
};
bool parse_endpoints_spec(const std::string& s, EndpointsSpec* out, std::string* error);

// One page of an EndpointSliceList -> targets (every address of every endpoint, ready or not:
// the agents' Service publishes not-ready addresses, and fleet shows unreachable agents too).
// `next` gets metadata.continue. The certificate is checked against server_name, else the
// Service's DNS name (SERVICE.NAMESPACE.svc). Pure; errors say what is wrong with the answer.
std::vector<FleetTarget> parse_endpoint_slices(const std::string& body, const EndpointsSpec& spec,
                                               const std::string& server_name, std::string* next,
                                               std::string* error);

// Lists the slices through the Kubernetes API (kubeconfig path, else in-cluster config, else
// $KUBECONFIG, else ~/.kube/config), following `continue`, within `timeout` per request.
std::vector<FleetTarget> discover_endpoints(const EndpointsSpec& spec,
                                            const std::string& kubeconfig,
                                            const std::string& server_name,
                                            std::chrono::milliseconds timeout, std::string* error);

}  // namespace ng::ngctl
