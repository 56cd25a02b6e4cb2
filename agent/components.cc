#include "agent/components.h"

#include <grpcpp/impl/service_type.h>

namespace ng::agent {

ComponentHandles register_components(ComponentRegistry& /*registry*/, ComponentContext& /*ctx*/) {
  ComponentHandles handles;
  return handles;
}

std::vector<std::unique_ptr<grpc::Service>> make_component_services(ComponentHandles& /*handles*/,
                                                                    ComponentContext& /*ctx*/) {
  return {};
}

}  // namespace ng::agent
