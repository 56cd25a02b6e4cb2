#include "agent/kube/kube_factory.h"

#include <cstdlib>

#include "agent/kube/beast_transport.h"
#include "agent/kube/kube_connection.h"

namespace ng::agent::kube {

std::unique_ptr<KubeExporter> make_kube_exporter(const KubeConfig& config,
                                                 const std::string& node_name,
                                                 const std::string& state_dir,
                                                 boost::asio::io_context& io,
                                                 KubeExporter::Deps deps) {
  Getenv env = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  auto sel = select_connection(config.enabled, config.kubeconfig, env, deps.files);
  std::unique_ptr<KubeTransport> transport;
  std::optional<core::EnvError> error = sel.error;
  if (sel.connection) {
    deps.log.info("Kubernetes API connection",
                  {{"server", sel.connection->host + ":" + sel.connection->port},
                   {"from", sel.connection->source}});
    auto t = BeastTransport::create(io, *sel.connection, config.request_timeout);
    if (t) {
      transport = std::move(t).value();
    } else {
      error = t.error();
    }
  }
  return std::make_unique<KubeExporter>(config, node_name, state_dir, std::move(transport),
                                        std::move(error), deps);
}

}  // namespace ng::agent::kube
