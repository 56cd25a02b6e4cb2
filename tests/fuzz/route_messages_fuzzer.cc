// rtnetlink link, address and route messages fed as bytes, as recv() returns them: any buffer
// walks and applies without a crash, and what the view holds can be described.
#include <cstddef>
#include <cstdint>
#include <span>

#include "probes/routes/route_messages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ng::probes::routes;
  RouteTable table;
  const MessageWalk w = apply_route_messages(std::span<const uint8_t>(data, size), table);
  if (w.applied > w.messages) __builtin_trap();
  for (const auto& [key, route] : table.routes()) {
    (void)route.dst.to_string();
    (void)table.describe(route);
  }
  for (const auto& [index, link] : table.links()) (void)table.link_name(index);
  return 0;
}
