#include "agent/components.h"

#include <grpcpp/impl/service_type.h>

#include "agent/api/netfilter_service.h"
#include "netfilter/guard_factory.h"

namespace ng::agent {

ComponentHandles register_components(ComponentRegistry& registry, ComponentContext& ctx) {
  ComponentHandles handles;
  // The netfilter guard first: later components (firewalld watcher, CNI cache) feed it.
  handles.netfilter = &registry.add(netfilter::make_guard(
      ctx.config.netfilter, ctx.config.dry_run, ctx.config.state_dir, ctx.io, ctx.processes,
      netfilter::Guard::Deps{ctx.clock, ctx.loop, ctx.workers, ctx.files, ctx.health,
                             ctx.env_errors, ctx.metrics, ctx.log.with_component("netfilter")}));
  return handles;
}

std::vector<std::unique_ptr<grpc::Service>> make_component_services(ComponentHandles& handles,
                                                                    ComponentContext& ctx) {
  std::vector<std::unique_ptr<grpc::Service>> services;
  if (handles.netfilter) {
    services.push_back(std::make_unique<NetfilterService>(ctx.loop, ctx.clock, *handles.netfilter));
  }
  return services;
}

}  // namespace ng::agent
