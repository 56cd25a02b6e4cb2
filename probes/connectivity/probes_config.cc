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

void bind_config(core::ConfigBinder& b, ProbesConfig& c) {
  b.field("enabled", c.enabled, "Run the connectivity probes.");
  b.list("tcp", c.tcp, "TCP connect probes.");
  b.field("interval", c.interval, "Time between two rounds of probes.",
          core::duration_range(100ms, 1h));
  b.field("timeout", c.timeout, "Connect deadline of one probe.", core::duration_range(10ms, 1min));
}

}  // namespace ng::probes::connectivity
