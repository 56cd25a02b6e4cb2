#pragma once

#include <string>

#include "netfilter/native/native_table_backend.h"

namespace ng::netfilter::native {

struct NativeRepairOutcome {
  enum class Kind {
    kRestored,      // committed and read back equal to the snapshot
    kNotWiped,      // by the time we wrote, the table no longer looked wiped: nothing written
    kVerifyFailed,  // committed, but the read-back differs (reported, not retried)
    kFailed,        // nothing committed
  };
  Kind kind = Kind::kFailed;
  std::string error;
  NativeDump current;  // the table as last read
  int attempts = 0;
};

std::string_view to_string(NativeRepairOutcome::Kind k);

// Runs on a worker: restore `good` over `after` (the wiped state just read), pinned to its
// generation. When the generation moved (another transaction landed), read again and retry
// only while the table still looks wiped, at most max_attempts times. Then read back once.
NativeRepairOutcome repair_native_table(NativeTableBackend& backend,
                                        const NativeTableSnapshot& good, NativeDump after,
                                        int max_attempts = 4);

}  // namespace ng::netfilter::native
