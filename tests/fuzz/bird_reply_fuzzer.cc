// BIRD control-socket replies: any bytes parse into lines, protocols and routes without a
// crash; a reply end found in a stream, incrementally or at once, is the same place, and what
// lies before it parses as a complete reply.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probes/bgp/bird_protocols.h"
#include "probes/bgp/bird_reply.h"
#include "probes/bgp/bird_routes.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ng::probes::bgp;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  const BirdReply reply = parse_reply(bytes);
  const ProtocolsResult protocols = parse_protocols(reply);
  const RoutesResult routes = parse_routes(reply);
  for (const auto& p : protocols.protocols) (void)decode_peer_name(p.name);
  for (const auto& r : routes.routes) (void)decode_peer_name(r.protocol);
  if (reply.error()) (void)reply.error_text();

  // The reader resumes its scan as bytes arrive: pieces of varying size must find the end at
  // the same place as one scan over everything.
  const size_t whole = find_reply_end(bytes);
  size_t scanned = 0, found = 0, step = 1;
  for (size_t have = 0; have < bytes.size() && found == 0;) {
    have = std::min(bytes.size(), have + step);
    found = find_reply_end(bytes.substr(0, have), &scanned);
    step = step * 5 % 61 + 1;
  }
  if (found != whole) __builtin_trap();
  if (whole > 0 && !parse_reply(bytes.substr(0, whole)).complete()) __builtin_trap();
  return 0;
}
