// HTTP request heads from any client that reaches the metrics or health port: any bytes parse or
// are refused without a crash, and what parses has a path that starts with '/' and no query.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/metrics/http_request_head.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto head = ng::agent::parse_request_head(bytes)) {
    if (head->path.empty() || head->path.front() != '/') std::abort();
    if (head->path.find('?') != std::string_view::npos) std::abort();
    if (head->method.empty()) std::abort();
  }
  return 0;
}
