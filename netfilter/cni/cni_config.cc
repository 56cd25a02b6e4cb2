#include "netfilter/cni/cni_config.h"

namespace ng::netfilter::cni {

void bind_config(core::ConfigBinder& b, CniConfig& c) {
  b.field("cache_dir", c.cache_dir,
          "libcni's cache directory; the runtime's per-container results are under results/.",
          core::absolute_path(false));
  b.field("mode", c.mode,
          "repair: rebuild missing hostPort DNAT rules from the cache; report: only report "
          "them; off: ignore the cache.",
          core::one_of({"repair", "report", "off"}));
}

}  // namespace ng::netfilter::cni
