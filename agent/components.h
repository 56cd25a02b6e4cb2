#pragma once

#include <memory>
#include <vector>

#include "agent/runtime/component_context.h"
#include "core/component_registry.h"

namespace grpc {
class Service;
}

namespace ng::probes::routes {
class RouteChecker;
}
namespace ng::probes::bgp {
class BgpMonitor;
}
namespace ng::probes::connectivity {
class Prober;
}
namespace ng::netfilter {
class Guard;
}
namespace ng::netfilter::native {
class NativeTableGuard;
}
namespace ng::netfilter::firewalld {
class FirewalldWatcher;
}
namespace ng::netfilter::cni {
class CniComponent;
}
namespace ng::probes::logs {
class LogsComponent;
}

namespace ng::agent::kube {
class KubeExporter;
}

namespace ng::agent {

// Typed handles to the components the API needs to query; null when not registered.
struct ComponentHandles {
  probes::bgp::BgpMonitor* bgp = nullptr;
  probes::routes::RouteChecker* routes = nullptr;
  probes::connectivity::Prober* probes = nullptr;
  netfilter::Guard* netfilter = nullptr;  // the iptables guard (request_check, repair, view)
  netfilter::firewalld::FirewalldWatcher* firewalld = nullptr;  // reload watcher, conflicts
  probes::logs::LogsComponent* logs = nullptr;
  netfilter::cni::CniComponent* cni = nullptr;  // the CNI cache (hostPort rules of live pods)
  kube::KubeExporter* kube = nullptr;           // conditions, events, taints on the Node
  netfilter::native::NativeTableGuard* nftables = nullptr;  // native nftables tables, whole
};

// The one place that decides which components run, in which order (start order; stop is the
// reverse). Components read their config section from ctx.config.
ComponentHandles register_components(core::ComponentRegistry& registry, ComponentContext& ctx);

// The gRPC services over those components, besides nodeguard.v1.Agent.
std::vector<std::unique_ptr<grpc::Service>> make_component_services(ComponentHandles& handles,
                                                                    ComponentContext& ctx);

}  // namespace ng::agent
