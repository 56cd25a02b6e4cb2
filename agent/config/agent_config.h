#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/kube/kube_config.h"
#include "core/config_binder.h"
#include "netfilter/cni/cni_config.h"
#include "netfilter/firewalld/firewalld_config.h"
#include "netfilter/netfilter_config.h"
#include "probes/bgp/bgp_config.h"
#include "probes/connectivity/probes_config.h"
#include "probes/logs/logs_config.h"
#include "probes/routes/routes_config.h"

namespace ng::agent {

// The API endpoints' security and limits.
struct ApiConfig {
  std::string tls_cert;       // server certificate (PEM); required for grpc_listen
  std::string tls_key;        // server key (PEM)
  std::string tls_client_ca;  // when set, TCP clients must present a certificate from this CA
  std::vector<std::string> allowed_clients;  // typed identities (dns:, uri:, cn:) allowed to mutate
  std::vector<std::string> allowed_uids = {"0"};      // unix socket peers allowed (uid numbers)
  std::vector<std::string> allowed_log_clients;       // typed identities allowed to TailLogs
  std::vector<std::string> allowed_log_uids = {"0"};  // unix socket uids allowed to TailLogs
  std::int64_t max_message_bytes = 4 * 1024 * 1024;
  std::int64_t max_streams = 64;
  double max_requests_per_second = 200;
  core::Millis tls_reload_interval{10000};  // how often certificate files are re-read
  std::int64_t watch_queue_events = 1024;   // per WatchEvents stream, before a slow reader is cut
};

void bind_config(core::ConfigBinder& b, ApiConfig& c);

// Short flags the API contract names, besides each key's own flag: (key path, flag without
// dashes), e.g. ("api.tls_cert", "tls-cert") makes --tls-cert set api.tls_cert.
const std::vector<std::pair<std::string, std::string>>& flag_aliases();

// The whole agent configuration: top-level keys for the agent itself, one section per
// component. Defaults are safe for a DaemonSet on a Calico or flannel node.
struct AgentConfig {
  std::string node_name;  // empty: the hostname
  std::string state_dir = "/var/lib/nodeguard";
  std::string grpc_socket = "/run/nodeguard/nodeguard.sock";
  std::string grpc_listen;  // empty: no TCP listener
  std::string metrics_listen = "0.0.0.0:9746";
  std::string health_listen = "0.0.0.0:9747";
  std::int64_t http_max_connections = 256;            // per listener
  std::int64_t http_max_connections_per_client = 16;  // per listener and peer address
  core::Millis http_header_timeout{3000};
  std::string log_level = "info";
  bool dry_run = false;
  core::Millis shutdown_timeout{5000};
  std::int64_t worker_threads = 2;

  ApiConfig api;
  netfilter::NetfilterConfig netfilter;
  netfilter::firewalld::FirewalldConfig firewalld;
  netfilter::cni::CniConfig cni;
  probes::bgp::BgpConfig bgp;
  probes::routes::RoutesConfig routes;
  probes::connectivity::ProbesConfig probes;
  probes::logs::LogsConfig logs;
  kube::KubeConfig kubernetes;
};

void bind_config(core::ConfigBinder& b, AgentConfig& c);

}  // namespace ng::agent
