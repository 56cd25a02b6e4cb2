// Required literals: any bytes as "pattern\nsubject". The reader never crashes, and what it
// returns is what the chunk prefilter relies on, checked against Hyperscan itself: whenever the
// pattern matches the subject, one of the literals occurs in the subject.
#include <hs/hs.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "probes/logs/required_literals.h"

namespace {

int on_match(unsigned int, unsigned long long, unsigned long long, unsigned int, void* ctx) {
  *static_cast<bool*>(ctx) = true;
  return 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nl = in.find('\n');
  const std::string pattern(in.substr(0, nl));
  const std::string_view subject = nl == std::string_view::npos ? "" : in.substr(nl + 1);
  auto literals = ng::probes::logs::required_literals(pattern);
  if (!literals) return 0;
  for (const auto& l : *literals) {
    if (l.empty()) __builtin_trap();
    for (const auto& other : *literals) {
      if (&other != &l && l.find(other) != std::string::npos) __builtin_trap();
    }
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_compile(pattern.c_str(), 0, HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS) {
    hs_free_compile_error(err);
    return 0;
  }
  hs_scratch_t* scratch = nullptr;
  if (hs_alloc_scratch(db, &scratch) == HS_SUCCESS) {
    bool matched = false;
    hs_scan(db, subject.data(), static_cast<unsigned>(subject.size()), 0, scratch, on_match,
            &matched);
    if (matched) {
      bool holds = false;
      for (const auto& l : *literals) holds = holds || subject.find(l) != std::string_view::npos;
      if (!holds) __builtin_trap();  // the prefilter would miss this line
    }
  }
  hs_free_scratch(scratch);
  hs_free_database(db);
  return 0;
}
