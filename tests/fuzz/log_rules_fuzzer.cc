// Rule files: any bytes give rules or errors naming the file; small rule sets also compile
// (a pattern Hyperscan refuses is reported, never a crash). The same bytes as a kubelet line
// go through the quote masking node-condition rules see (quote_mask.h).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "probes/logs/matcher.h"
#include "probes/logs/quote_mask.h"
#include "probes/logs/rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ng::probes::logs;
  std::string masked;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  // Masking removes bytes; it adds at most the closing quotes or brace of what it cut short.
  if (mask_quoted(line, masked).size() > size + 4) __builtin_trap();
  RuleSet set;
  parse_rule_file(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json", set);
  for (const auto& e : set.errors) {
    if (e.find("fuzz.json") == std::string::npos) __builtin_trap();
  }
  if (set.rules.size() <= 4) {
    std::vector<std::string> errors;
    auto m = RuleMatcher::compile(set.rules, &errors);
    (void)m.scan(SourceKind::kContainer, "a line with no space left on device");
    (void)m.scan(SourceKind::kKubelet, R"(E1 k.go:1] "M" err="x: \"no space\"" k="v")");
  }
  return 0;
}
