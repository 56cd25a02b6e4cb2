#pragma once

#include <cstdint>

#include "core/result.h"
#include "netfilter/native/native_snapshot.h"

namespace ng::netfilter::native {

// How a restore ended.
enum class NativeRestoreResult {
  kApplied,  // committed (all of it, in one transaction)
  kRaced,    // the generation moved since the table was read: nothing applied, read again
  kFailed,   // the kernel refused it: nothing applied
};

struct NativeRestore {
  NativeRestoreResult result = NativeRestoreResult::kFailed;
  std::string error;  // for kFailed: the errno text and which message
};

// The kernel seam of the native table guard: a pure interface, the netlink implementation in
// netlink_native_backend.h, a stateful fake in tests/fakes/fake_native_backend.h. Called on a
// worker, one call at a time per table.
class NativeTableBackend {
 public:
  virtual ~NativeTableBackend() = default;
  // The table as the kernel holds it now, or absent; consistent with one generation.
  virtual core::Result<NativeDump> dump(const NftTableRef& table) = 0;
  // One transaction pinned to genid: delete what is left of the table (when `exists`), then
  // create everything in the snapshot. Nothing outside the table is touched.
  virtual NativeRestore restore(const NativeTableSnapshot& good, bool exists,
                                std::uint32_t genid) = 0;
};

}  // namespace ng::netfilter::native
