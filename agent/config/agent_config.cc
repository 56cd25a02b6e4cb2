#include "agent/config/agent_config.h"

#include "agent/api/client_identity.h"
#include "core/log.h"

namespace ng::agent {

using namespace std::chrono_literals;

void bind_config(core::ConfigBinder& b, ApiConfig& c) {
  b.field("tls_cert", c.tls_cert,
          "Server certificate (PEM) for the TCP listener. The TCP listener only serves TLS.",
          core::absolute_path(true));
  b.field("tls_key", c.tls_key, "Server private key (PEM).", core::absolute_path(true));
  b.field("tls_client_ca", c.tls_client_ca,
          "CA bundle (PEM) for client certificates; required with grpc_listen: TCP clients "
          "must present a certificate it signed (mutual TLS).",
          core::absolute_path(true));
  b.field("allowed_clients", c.allowed_clients,
          "TCP client identities allowed to call mutating RPCs (Repair, SetExpectedPeers), each "
          "typed by the certificate field it matches exactly: dns:NAME (DNS SAN), "
          "uri:spiffe://... (URI SAN) or cn:NAME (subject CN). Read-only RPCs are open to any "
          "verified client.",
          client_identity_error);
  const auto numeric_uid = [](const std::string& v) -> std::optional<std::string> {
    if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) {
      return "must be a numeric uid; got \"" + v + "\"";
    }
    return std::nullopt;
  };
  b.field("allowed_uids", c.allowed_uids,
          "Unix user ids allowed on the unix socket (checked with SO_PEERCRED); the agent's "
          "own uid, the socket's owner, always is.",
          numeric_uid);
  b.field("max_message_bytes", c.max_message_bytes, "Largest gRPC message accepted.",
          core::int_range(1024, 64 * 1024 * 1024));
  b.field("max_streams", c.max_streams,
          "Concurrent streaming RPCs (WatchEvents, TailLogs, any other) per agent; more get "
          "RESOURCE_EXHAUSTED.",
          core::int_range(1, 10000));
  b.field("max_requests_per_second", c.max_requests_per_second,
          "Unary RPC rate limit for the whole agent (a token bucket holding one second's worth); "
          "excess calls get RESOURCE_EXHAUSTED.",
          core::double_range(1, 1e6));
  b.field("tls_reload_interval", c.tls_reload_interval,
          "How often the certificate, key and client CA files are re-read; a changed file is "
          "used for new connections without a restart.",
          core::duration_range(1s, 1h));
  b.field("watch_queue_events", c.watch_queue_events,
          "Events queued per WatchEvents stream; a reader that falls this far behind is cut "
          "with RESOURCE_EXHAUSTED (and told where to resume) instead of slowing the agent.",
          core::int_range(16, 1000000));
  b.field("allowed_log_clients", c.allowed_log_clients,
          "TCP client identities allowed to call TailLogs (every pod's output, secrets "
          "included), typed like api.allowed_clients; empty: no TCP client may.",
          client_identity_error);
  b.field("allowed_log_uids", c.allowed_log_uids,
          "Unix user ids allowed to call TailLogs on the unix socket (they must also be "
          "allowed on the socket, see api.allowed_uids).",
          numeric_uid);
}

const std::vector<std::pair<std::string, std::string>>& flag_aliases() {
  static const std::vector<std::pair<std::string, std::string>> aliases = {
      {"api.tls_cert", "tls-cert"},
      {"api.tls_key", "tls-key"},
      {"api.tls_client_ca", "tls-client-ca"},
      {"api.allowed_clients", "allowed-clients"},
      {"api.allowed_log_clients", "allowed-log-clients"},
      {"kubernetes.kubeconfig", "kubeconfig"},
  };
  return aliases;
}

void bind_config(core::ConfigBinder& b, AgentConfig& c) {
  b.field("node_name", c.node_name, "This node's name in reports (default: the hostname).");
  b.field("state_dir", c.state_dir,
          "Where the agent keeps its state: netfilter snapshots, log checkpoints.",
          core::absolute_path(false));
  b.field("grpc_socket", c.grpc_socket,
          "Unix socket for the gRPC API (mode 0600, SO_PEERCRED checked); empty disables it.",
          core::absolute_path(true));
  b.field("grpc_listen", c.grpc_listen,
          "TCP HOST:PORT for the gRPC API, mutual TLS only (api.tls_cert, api.tls_key and "
          "api.tls_client_ca required); empty disables it.",
          core::host_port(true));
  b.field("metrics_listen", c.metrics_listen,
          "HOST:PORT serving /metrics (and /healthz, /readyz); empty disables it. A node "
          "address instead of 0.0.0.0 keeps the metrics off the node's other interfaces.",
          core::host_port(true));
  b.field("health_listen", c.health_listen,
          "HOST:PORT serving only /healthz and /readyz, for the kubelet's probes (they connect "
          "to the node's address, so keep all addresses); empty disables it.",
          core::host_port(true));
  b.field("http_max_connections", c.http_max_connections,
          "Open connections each of the metrics and health listeners holds; past it, the "
          "oldest one still sending its request is closed.",
          core::int_range(8, 65536));
  b.field("http_max_connections_per_client", c.http_max_connections_per_client,
          "Open connections per client address on each listener; past it, that client's oldest "
          "one still sending its request is closed.",
          core::int_range(1, 4096));
  b.field("http_header_timeout", c.http_header_timeout,
          "Time a client has to send its whole request head before the connection is closed.",
          core::duration_range(100ms, 60s));
  b.field("log_level", c.log_level, "Agent log level: debug, info, warn, error.",
          core::one_of({"debug", "info", "warn", "error"}));
  b.field("dry_run", c.dry_run,
          "Observe and report only: never write to the node (repairs are logged, not applied).");
  b.field("shutdown_timeout", c.shutdown_timeout,
          "After SIGTERM, abort if shutdown has not finished within this time.",
          core::duration_range(100ms, 60s));
  b.field("worker_threads", c.worker_threads,
          "Threads for blocking work (table reads and commits, exec, fsync).",
          core::int_range(1, 16));
  b.section("api", "gRPC API security and limits.",
            [&](core::ConfigBinder& s) { bind_config(s, c.api); });
  b.section("netfilter", "iptables drift detection and repair (legacy and nft).",
            [&](core::ConfigBinder& s) { bind_config(s, c.netfilter); });
  b.section("firewalld", "firewalld reload watcher and policy conflict report.",
            [&](core::ConfigBinder& s) { bind_config(s, c.firewalld); });
  b.section("cni", "hostPort rules rebuilt from the container runtime's CNI cache.",
            [&](core::ConfigBinder& s) { bind_config(s, c.cni); });
  b.section("bgp", "BGP session state from BIRD.",
            [&](core::ConfigBinder& s) { bind_config(s, c.bgp); });
  b.section("routes", "Routes to every peer's pod blocks.",
            [&](core::ConfigBinder& s) { bind_config(s, c.routes); });
  b.section("probes", "Connectivity probes to peers, pods and external endpoints.",
            [&](core::ConfigBinder& s) { bind_config(s, c.probes); });
  b.section("logs", "Container and kubelet log tailing and failure patterns.",
            [&](core::ConfigBinder& s) { bind_config(s, c.logs); });
  b.section("kubernetes",
            "Kubernetes API exporter: node conditions, events and opt-in taints on the Node.",
            [&](core::ConfigBinder& s) { kube::bind_config(s, c.kubernetes); });
}

}  // namespace ng::agent
