// CNI cache files (libcni's cniCacheV1 results): any bytes parse into an entry or a skip reason
// without a crash, and whatever entry comes out is planned and replayed as portmap would,
// again without a crash; the replayed chains are named as portmap names them.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "netfilter/cni/cache_file.h"
#include "netfilter/cni/portmap_conf.h"
#include "netfilter/cni/portmap_rules.h"
#include "netfilter/cni/portmap_version.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ng::netfilter;
  using namespace ng::netfilter::cni;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_cache_file(bytes);
  if (auto* err = std::get_if<CacheFileError>(&parsed)) {
    (void)to_string(err->reason);
    return 0;
  }
  const auto& entry = std::get<CacheEntry>(parsed);
  (void)entry.netns_path();
  (void)entry.key();
  // Both behaviours: before and after masqAll (1.2.0).
  for (const char* v : {"1.1.1", "1.4.0"}) {
    const auto version = parse_portmap_version(v);
    if (!version) __builtin_trap();
    const PortmapPlan plan = plan_portmap(entry, *version);
    if (plan.invocations.empty()) continue;
    for (Family f : {Family::kIPv4, Family::kIPv6}) {
      const PortmapTable table = replay_portmap(plan.invocations, f);
      for (const auto& c : table.dnat_chains) {
        if (c.chain.size() > 28 || c.chain.rfind("CNI-DN-", 0) != 0) __builtin_trap();
      }
    }
  }
  return 0;
}
