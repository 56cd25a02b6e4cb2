#include "agent/components.h"

#include <grpcpp/impl/service_type.h>

#include "agent/api/logs_service.h"
#include "probes/logs/logs_component.h"

namespace ng::agent {

ComponentHandles register_components(ComponentRegistry& registry, ComponentContext& ctx) {
  ComponentHandles handles;
  handles.logs = &registry.add(std::make_unique<probes::logs::LogsComponent>(
      ctx.config.logs,
      probes::logs::LogsComponent::Deps{ctx.io, ctx.clock, ctx.loop, ctx.workers, ctx.metrics,
                                        ctx.health, ctx.env_errors, ctx.log.with_component("logs"),
                                        ctx.files, ctx.config.state_dir}));
  return handles;
}

std::vector<std::unique_ptr<grpc::Service>> make_component_services(ComponentHandles& handles,
                                                                    ComponentContext& ctx) {
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(std::make_unique<LogsService>(ctx.loop, handles.logs));
  return services;
}

}  // namespace ng::agent
