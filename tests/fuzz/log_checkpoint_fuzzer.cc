// Checkpoint files: any bytes parse or give an error naming the line; what parses round-trips.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probes/logs/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ng::probes::logs;
  std::string error;
  auto st = parse_checkpoints(std::string_view(reinterpret_cast<const char*>(data), size), &error);
  if (!st) {
    if (error.empty()) __builtin_trap();
    return 0;
  }
  const std::string text = serialize_checkpoints(*st);
  auto back = parse_checkpoints(text, &error);
  if (!back || serialize_checkpoints(*back) != text) __builtin_trap();
  return 0;
}
