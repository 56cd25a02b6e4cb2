// Rule files: any bytes give rules or errors naming the file; small rule sets also compile
// (a pattern Hyperscan refuses is reported, never a crash).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probes/logs/matcher.h"
#include "probes/logs/rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ng::probes::logs;
  RuleSet set;
  parse_rule_file(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json", set);
  for (const auto& e : set.errors) {
    if (e.find("fuzz.json") == std::string::npos) __builtin_trap();
  }
  if (set.rules.size() <= 4) {
    std::vector<std::string> errors;
    auto m = RuleMatcher::compile(set.rules, &errors);
    (void)m.scan(SourceKind::kContainer, "a line with no space left on device");
  }
  return 0;
}
