// Container log lines: any bytes, fed in any pieces, decode without a crash, never hand on a
// line longer than max_line_bytes, and the checkpoint position only moves forward.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probes/logs/line_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  using namespace ng::probes::logs;
  const auto format = static_cast<LineFormat>(data[0] % 4);
  const size_t max_line = 256 + data[1] * 16;
  std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
  LineDecoder dec(format, max_line);
  dec.reset(0);
  std::uint64_t last_done = 0;
  auto emit = [&](const DecodedInfo&, std::string_view msg) {
    if (msg.size() > max_line) __builtin_trap();
  };
  // Pieces of varying size, as reads return them.
  size_t i = 0, step = 1;
  while (i < text.size()) {
    const size_t n = std::min(step, text.size() - i);
    dec.feed(text.substr(i, n), emit);
    i += n;
    step = step * 3 % 97 + 1;
    if (dec.position().done < last_done || dec.position().done > dec.next_offset()) {
      __builtin_trap();
    }
    last_done = dec.position().done;
  }
  dec.finish(emit);
  // A restart from the checkpoint never starts past what was read.
  LineDecoder again(format, max_line);
  again.restore(dec.position());
  if (again.next_offset() > dec.next_offset()) __builtin_trap();
  again.feed(text.substr(std::min<size_t>(again.next_offset(), text.size())), emit);
  return 0;
}
