#pragma once

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "agent/kube/kube_exporter.h"

namespace ng::agent::kube {

// Production wiring: picks the connection (kubernetes.kubeconfig, in-cluster, $KUBECONFIG) and
// builds the HTTPS transport; the exporter is disabled when nothing is configured and
// kubernetes.enabled is auto.
std::unique_ptr<KubeExporter> make_kube_exporter(const KubeConfig& config,
                                                 const std::string& node_name,
                                                 const std::string& state_dir,
                                                 boost::asio::io_context& io,
                                                 KubeExporter::Deps deps);

}  // namespace ng::agent::kube
