#pragma once

#include "core/clock.h"
#include "core/executor.h"
#include "nodeguard/v1/network.grpc.pb.h"
#include "probes/bgp/bgp_monitor.h"
#include "probes/connectivity/prober.h"
#include "probes/routes/route_checker.h"

namespace ng::agent {

// nodeguard.v1.Network: peers and sessions, route verdicts, probe results, and the
// controller's SetExpectedPeers. Any of the three components may be null (not registered).
// Handlers run on the loop (unary_on_loop).
class NetworkService final : public nodeguard::v1::Network::CallbackService {
 public:
  NetworkService(core::Executor& loop, probes::routes::RouteChecker* routes,
                 probes::bgp::BgpMonitor* bgp, probes::connectivity::Prober* probes)
      : loop_(loop), routes_(routes), bgp_(bgp), probes_(probes) {}

  grpc::ServerUnaryReactor* ListPeers(grpc::CallbackServerContext* ctx,
                                      const nodeguard::v1::ListPeersRequest* request,
                                      nodeguard::v1::ListPeersResponse* response) override;
  grpc::ServerUnaryReactor* ListRoutes(grpc::CallbackServerContext* ctx,
                                       const nodeguard::v1::ListRoutesRequest* request,
                                       nodeguard::v1::ListRoutesResponse* response) override;
  grpc::ServerUnaryReactor* SetExpectedPeers(
      grpc::CallbackServerContext* ctx, const nodeguard::v1::SetExpectedPeersRequest* request,
      nodeguard::v1::SetExpectedPeersResponse* response) override;
  grpc::ServerUnaryReactor* ListProbes(grpc::CallbackServerContext* ctx,
                                       const nodeguard::v1::ListProbesRequest* request,
                                       nodeguard::v1::ListProbesResponse* response) override;

  // The handlers' bodies, callable on the loop without gRPC (unit tests).
  void fill_peers(nodeguard::v1::ListPeersResponse& out) const;
  void fill_routes(const nodeguard::v1::ListRoutesRequest& in,
                   nodeguard::v1::ListRoutesResponse& out) const;
  grpc::Status set_expected_peers(const nodeguard::v1::SetExpectedPeersRequest& in,
                                  nodeguard::v1::SetExpectedPeersResponse& out);
  void fill_probes(nodeguard::v1::ListProbesResponse& out) const;

 private:
  core::Executor& loop_;
  probes::routes::RouteChecker* routes_;
  probes::bgp::BgpMonitor* bgp_;
  probes::connectivity::Prober* probes_;
};

}  // namespace ng::agent
