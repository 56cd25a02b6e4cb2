#include "probes/bgp/bgp_config.h"

namespace ng::probes::bgp {

using namespace std::chrono_literals;

void bind_config(core::ConfigBinder& b, BgpConfig& c) {
  b.field("enabled", c.enabled, "Poll BIRD's control sockets for BGP session state.");
  b.field("bird_sockets", c.bird_sockets,
          "BIRD control sockets (BIRD 1.6 as Calico ships it, BIRD 2 or 3). A missing socket is "
          "reported and retried.",
          core::absolute_path(false));
  b.field("poll_interval", c.poll_interval, "How often sessions are read.",
          core::duration_range(100ms, 10min));
  b.field("timeout", c.timeout, "Deadline for one BIRD request.", core::duration_range(10ms, 1min));
}

}  // namespace ng::probes::bgp
