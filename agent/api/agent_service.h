#pragma once

#include <string>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "agent/api/watch_events_reactor.h"
#include "agent/health/health_model.h"
#include "core/clock.h"
#include "core/component_registry.h"
#include "core/executor.h"
#include "nodeguard/v1/agent.grpc.pb.h"

namespace ng::agent {

struct AgentIdentity {
  std::string node_name;
  bool dry_run = false;
  core::WallTime started_at{};
  core::MonoTime started_mono{};
};

// nodeguard.v1.Agent: identity, component status, the node's health and its event stream.
class AgentService final : public nodeguard::v1::Agent::CallbackService {
 public:
  AgentService(core::Executor& loop, core::Clock& clock, const AgentIdentity& identity,
               const core::ComponentRegistry& components, HealthModel& health,
               prometheus::Registry& metrics, WatchEventsReactor::Options watch_options = {});

  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* ctx,
                                      const nodeguard::v1::GetStatusRequest* request,
                                      nodeguard::v1::GetStatusResponse* response) override;
  grpc::ServerUnaryReactor* GetHealth(grpc::CallbackServerContext* ctx,
                                      const nodeguard::v1::GetHealthRequest* request,
                                      nodeguard::v1::GetHealthResponse* response) override;
  grpc::ServerWriteReactor<nodeguard::v1::WatchEventsResponse>* WatchEvents(
      grpc::CallbackServerContext* ctx, const nodeguard::v1::WatchEventsRequest* request) override;

  // Fill a response from the current state; loop thread.
  void fill_status(nodeguard::v1::GetStatusResponse& out) const;
  void fill_health(const nodeguard::v1::GetHealthRequest& request,
                   nodeguard::v1::GetHealthResponse& out) const;

 private:
  core::Executor& loop_;
  core::Clock& clock_;
  const AgentIdentity& identity_;
  const core::ComponentRegistry& components_;
  HealthModel& health_;
  WatchEventsReactor::Options watch_options_;
  prometheus::Counter& watchers_cut_;
};

}  // namespace ng::agent
