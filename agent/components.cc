#include "agent/components.h"

#include <grpcpp/impl/service_type.h>

#include <cstdlib>

#include "agent/api/logs_service.h"
#include "agent/api/netfilter_service.h"
#include "agent/api/network_service.h"
#include "agent/firewalld_node_facts.h"
#include "agent/kube/kube_factory.h"
#include "agent/node_paths.h"
#include "netfilter/cni/cni_component.h"
#include "netfilter/firewalld/firewalld_watcher.h"
#include "netfilter/firewalld/sd_bus_connection.h"
#include "netfilter/guard_factory.h"
#include "netfilter/native/native_table_guard.h"
#include "netfilter/native/netlink_native_backend.h"
#include "netfilter/nft/nft_monitor.h"
#include "netfilter/writer_resolver.h"
#include "probes/bgp/asio_bird_connection.h"
#include "probes/bgp/bgp_monitor.h"
#include "probes/connectivity/asio_probe_transport.h"
#include "probes/connectivity/prober.h"
#include "probes/logs/logs_component.h"
#include "probes/routes/netlink_route_source.h"
#include "probes/routes/route_checker.h"

namespace ng::agent {

namespace {

// Native nftables tables (kube-proxy's, Calico's, portmap's nftables mode), guarded whole. Its
// own monitor socket: the iptables guard's monitor and listen gate stay as they are. Writers
// are resolved through the host's /proc as mounted (netfilter.proc_root).
std::unique_ptr<netfilter::native::NativeTableGuard> make_native_table_guard(
    ComponentContext& ctx) {
  const auto& nf = ctx.config.netfilter;
  const std::string proc_root = nf.proc_root.empty() ? "/proc" : nf.proc_root;
  auto monitor =
      std::make_unique<netfilter::NftMonitor>(ctx.io, ctx.log.with_component("nftables"));
  if (!nf.proc_root.empty()) {
    auto resolver = std::make_shared<netfilter::CgroupWriterResolver>(ctx.files, nf.proc_root);
    monitor->set_writer_resolver([resolver](netfilter::ChangeWriter& w) { (*resolver)(w); });
  }
  return std::make_unique<netfilter::native::NativeTableGuard>(
      nf.native, nf.enabled, ctx.config.dry_run,
      std::make_shared<netfilter::native::NetlinkNativeBackend>(), std::move(monitor),
      netfilter::native::NativeTableGuard::Deps{
          ctx.clock, ctx.health, ctx.env_errors, ctx.metrics, ctx.log.with_component("nftables"),
          ctx.loop, ctx.workers,
          [proc_root](std::uint32_t pid) { return netfilter::native::pid_is_self(pid, proc_root); },
          [proc_root](std::uint32_t pid) {
            return netfilter::native::proc_parent_comm(pid, proc_root);
          }});
}

}  // namespace

ComponentHandles register_components(core::ComponentRegistry& registry, ComponentContext& ctx) {
  ComponentHandles handles;
  // The netfilter guard first: later components (firewalld watcher, CNI cache) feed it.
  handles.netfilter = &registry.add(netfilter::make_guard(
      ctx.config.netfilter, ctx.config.dry_run, ctx.config.state_dir, ctx.io, ctx.processes,
      netfilter::Guard::Deps{ctx.clock, ctx.loop, ctx.workers, ctx.files, ctx.health,
                             ctx.env_errors, ctx.metrics, ctx.log.with_component("netfilter")}));
  // Native nftables tables (kube-proxy's, Calico's, portmap's nftables mode), guarded whole.
  // Its own monitor socket: the iptables guard's monitor and listen gate stay as they are.
  handles.nftables = &registry.add(make_native_table_guard(ctx));
  // firewalld right after: a reload or restart triggers an immediate check of the guard.
  handles.firewalld = &registry.add(std::make_unique<netfilter::firewalld::FirewalldWatcher>(
      ctx.config.firewalld,
      std::make_unique<netfilter::firewalld::SdBusConnection>(ctx.io, ctx.clock),
      netfilter::firewalld::NetfilterLink::of(*handles.netfilter),
      netfilter::firewalld::FirewalldWatcher::Deps{ctx.clock, ctx.health, ctx.env_errors,
                                                   ctx.metrics,
                                                   ctx.log.with_component("firewalld")}));
  // The CNI cache feeds the guard the hostPort rules of live pods (the guard must exist first).
  handles.cni = &registry.add(std::make_unique<netfilter::cni::CniComponent>(
      ctx.config.cni, ctx.config.netfilter.enabled ? handles.netfilter : nullptr,
      std::make_shared<netfilter::cni::PosixCacheStore>(ctx.config.cni.cache_dir + "/results"),
      std::make_shared<netfilter::cni::PosixSandboxProbe>(),
      netfilter::cni::CniComponent::Deps{ctx.clock, ctx.loop, ctx.workers, ctx.health,
                                         ctx.env_errors, ctx.metrics,
                                         ctx.log.with_component("cni")}));
  // Routes before BGP: the BGP monitor hands the peers it learns to the route checker.
  handles.routes = &registry.add(std::make_unique<probes::routes::RouteChecker>(
      ctx.config.routes,
      std::make_unique<probes::routes::NetlinkRouteSource>(ctx.io, ctx.log.with_component("routes"),
                                                           &ctx.metrics),
      probes::routes::RouteChecker::Deps{ctx.clock, ctx.loop, ctx.health, ctx.env_errors,
                                         ctx.metrics, ctx.log.with_component("routes")}));
  handles.bgp = &registry.add(std::make_unique<probes::bgp::BgpMonitor>(
      ctx.config.bgp,
      [&io = ctx.io, &clock = ctx.clock](const std::string& path) {
        return std::make_unique<probes::bgp::AsioBirdConnection>(io, clock, path);
      },
      probes::bgp::BgpMonitor::Deps{ctx.clock, ctx.health, ctx.env_errors, ctx.metrics,
                                    ctx.log.with_component("bgp")}));
  if (ctx.config.routes.enabled) {
    handles.bgp->set_peers_listener(
        [routes = handles.routes](auto peers) { routes->set_bird_peers(std::move(peers)); });
  }
  handles.firewalld->set_node_facts([routes = ctx.config.routes.enabled ? handles.routes : nullptr,
                                     bgp = ctx.config.bgp.enabled ? handles.bgp : nullptr] {
    return firewalld_node_facts(routes, bgp);
  });
  handles.probes = &registry.add(std::make_unique<probes::connectivity::Prober>(
      ctx.config.probes,
      std::make_unique<probes::connectivity::AsioProbeTransport>(ctx.io, ctx.clock),
      probes::connectivity::Prober::Deps{ctx.clock, ctx.health, ctx.env_errors, ctx.metrics,
                                         ctx.log.with_component("probes")}));
  handles.logs = &registry.add(std::make_unique<probes::logs::LogsComponent>(
      ctx.config.logs,
      probes::logs::LogsComponent::Deps{ctx.io, ctx.clock, ctx.loop, ctx.workers, ctx.metrics,
                                        ctx.health, ctx.env_errors, ctx.log.with_component("logs"),
                                        ctx.files, ctx.config.state_dir}));
  // The Kubernetes API exporter reads what the components above report.
  handles.kube = &registry.add(agent::kube::make_kube_exporter(
      ctx.config.kubernetes, ctx.config.node_name, ctx.config.state_dir, ctx.io,
      agent::kube::KubeExporter::Deps{ctx.clock, ctx.health, ctx.env_errors, ctx.metrics,
                                      ctx.log.with_component("kubernetes"), ctx.model, ctx.workers,
                                      ctx.files}));
  // Last: says which node paths (hostPath mounts in the DaemonSet) the features above lack.
  const char* bus = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
  registry.add(std::make_unique<NodePathsCheck>(required_node_paths(ctx.config, bus ? bus : ""),
                                                ctx.files, ctx.health,
                                                ctx.log.with_component("node_paths")));
  return handles;
}

std::vector<std::unique_ptr<grpc::Service>> make_component_services(ComponentHandles& handles,
                                                                    ComponentContext& ctx) {
  std::vector<std::unique_ptr<grpc::Service>> services;
  if (handles.netfilter) {
    auto netfilter = std::make_unique<NetfilterService>(ctx.loop, *handles.netfilter);
    netfilter->set_native(handles.nftables);
    services.push_back(std::move(netfilter));
  }
  services.push_back(
      std::make_unique<NetworkService>(ctx.loop, handles.routes, handles.bgp, handles.probes));
  services.push_back(std::make_unique<LogsService>(ctx.loop, handles.logs));
  return services;
}

}  // namespace ng::agent
