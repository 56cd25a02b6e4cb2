#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "probes/routes/route_table.h"

struct nlmsghdr;

namespace ng::probes::routes {

// rtnetlink link, address and route news applied to a view: the parsing half of the route
// source, a pure function of the message bytes (libnl-route does the attribute parsing).
// Messages of other types, messages too short for their header and routes of other families
// are ignored. Returns true when the view changed. `h` must lie inside a buffer of at least
// h->nlmsg_len bytes (NLMSG_OK checked by the caller).
bool apply_route_message(const nlmsghdr* h, RouteTable& table);

struct MessageWalk {
  size_t messages = 0;  // well-formed headers walked
  size_t applied = 0;   // that changed the view
  bool done = false;    // an NLMSG_DONE was seen
  size_t errors = 0;    // NLMSG_ERROR messages
};

// Walks a buffer as recv() returns it (several messages, NLMSG_OK/NLMSG_NEXT) and applies every
// news message to `table`. Stops at the first header that does not fit. Fuzzed by
// tests/fuzz/route_messages_fuzzer.cc.
MessageWalk apply_route_messages(std::span<const std::uint8_t> bytes, RouteTable& table);

}  // namespace ng::probes::routes
