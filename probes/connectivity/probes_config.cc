#include "probes/connectivity/probes_config.h"

namespace ng::probes::connectivity {

using namespace std::chrono_literals;

void bind_config(core::ConfigBinder& b, TcpTarget& t) {
  b.field("name", t.name, "Target name in reports and the metric label (bounded: you choose it).",
          core::not_empty());
  b.field("address", t.address, "HOST:PORT to connect to.", core::host_port(false));
  b.field("kind", t.kind, "peer (a node), pod (one pod per peer block) or external.",
          core::one_of({"peer", "pod", "external"}));
}

void bind_config(core::ConfigBinder& b, IcmpTarget& t) {
  b.field("name", t.name, "Target name in reports and the metric label (bounded: you choose it).",
          core::not_empty());
  b.field("address", t.address, "IP address to ping.", core::ip_address());
  b.field("kind", t.kind, "peer (a node), pod (one pod per peer block) or external.",
          core::one_of({"peer", "pod", "external"}));
}

void bind_config(core::ConfigBinder& b, ProbesConfig& c) {
  b.field("enabled", c.enabled, "Run the connectivity probes.");
  b.list("tcp", c.tcp,
         "TCP connect probes (non-blocking, on the agent loop), e.g. "
         "{name: api, address: \"10.0.0.1:6443\", kind: external}.");
  b.list("icmp", c.icmp,
         "ICMP echo probes, where the node permits them (ping socket, else raw socket); "
         "skipped and reported when it does not.");
  b.field("interval", c.interval, "Time between two rounds of probes.",
          core::duration_range(100ms, 1h));
  b.field("timeout", c.timeout, "Deadline of one probe.", core::duration_range(10ms, 1min));
  b.field("failure_threshold", c.failure_threshold,
          "Consecutive failures of a target before its condition (ExternalUnreachable, "
          "PeerUnreachable, PodUnreachable) turns on.",
          core::int_range(1, 100));
}

}  // namespace ng::probes::connectivity
