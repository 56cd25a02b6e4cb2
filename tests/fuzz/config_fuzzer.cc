// Config YAML: any bytes give either a config or errors naming keys; never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/config/config_loader.h"
#include "agent/config/config_printer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ng::agent::AgentConfig config;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto errors = ng::agent::apply_yaml(config, text, "fuzz.yaml");
  for (const auto& e : errors) {
    if (e.key.empty() || e.where.empty()) __builtin_trap();  // every error names key and place
  }
  if (errors.empty()) (void)ng::agent::render_yaml(config, false);
  return 0;
}
