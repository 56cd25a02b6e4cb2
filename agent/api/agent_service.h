#pragma once

#include <string>

#include "agent/health/health_model.h"
#include "agent/runtime/component_registry.h"
#include "core/clock.h"
#include "core/executor.h"
#include "nodeguard/v1/agent.grpc.pb.h"

namespace ng::agent {

struct AgentIdentity {
  std::string node_name;
  bool dry_run = false;
  core::WallTime started_at{};
  core::MonoTime started_mono{};
};

// nodeguard.v1.Agent: identity and component status.
class AgentService final : public nodeguard::v1::Agent::CallbackService {
 public:
  AgentService(core::Executor& loop, core::Clock& clock, const AgentIdentity& identity,
               const ComponentRegistry& components, const HealthModel& health)
      : loop_(loop), clock_(clock), identity_(identity), components_(components), health_(health) {}

  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* ctx,
                                      const nodeguard::v1::GetStatusRequest* request,
                                      nodeguard::v1::GetStatusResponse* response) override;

  // Fills a response from the current state; loop thread.
  void fill_status(nodeguard::v1::GetStatusResponse& out) const;

 private:
  core::Executor& loop_;
  core::Clock& clock_;
  const AgentIdentity& identity_;
  const ComponentRegistry& components_;
  const HealthModel& health_;
};

}  // namespace ng::agent
