// parse_cgroup_owner: /proc/PID/cgroup bytes of another process (netfilter attribution).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "netfilter/writer_label.h"
#include "netfilter/writer_resolver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto o = ng::netfilter::parse_cgroup_owner(text);
  if (o.unit.size() > 256 || o.container.size() > 128) __builtin_trap();
  // The label of whatever a comm could be stays bounded and clean.
  static ng::netfilter::WriterLabels labels(4);
  const auto l = labels.label(text.substr(0, 32));
  if (l.size() > 15) __builtin_trap();
  return 0;
}
