#include "netfilter/native/native_repair.h"

#include "netfilter/native/native_classify.h"

namespace ng::netfilter::native {

std::string_view to_string(NativeRepairOutcome::Kind k) {
  switch (k) {
    case NativeRepairOutcome::Kind::kRestored:
      return "applied";
    case NativeRepairOutcome::Kind::kNotWiped:
      return "not_needed";
    case NativeRepairOutcome::Kind::kVerifyFailed:
      return "verify_failed";
    case NativeRepairOutcome::Kind::kFailed:
      return "failed";
  }
  return "failed";
}

NativeRepairOutcome repair_native_table(NativeTableBackend& backend,
                                        const NativeTableSnapshot& good, NativeDump after,
                                        int max_attempts) {
  using Kind = NativeRepairOutcome::Kind;
  NativeRepairOutcome out;
  out.current = std::move(after);
  while (out.attempts < max_attempts) {
    if (wipe_shape(good, out.current.table).empty()) {
      out.kind = Kind::kNotWiped;
      return out;
    }
    out.attempts++;
    const auto r = backend.restore(good, out.current.table.has_value(), out.current.genid);
    if (r.result == NativeRestoreResult::kFailed) {
      out.kind = Kind::kFailed;
      out.error = r.error;
      return out;
    }
    auto read = backend.dump(good.table);
    if (!read) {
      out.kind = r.result == NativeRestoreResult::kApplied ? Kind::kVerifyFailed : Kind::kFailed;
      out.error = read.error().message;
      return out;
    }
    const std::uint32_t ours = out.current.genid + 1;  // the generation our commit made
    out.current = std::move(read.value());
    if (r.result == NativeRestoreResult::kRaced) continue;
    if (out.current.genid != ours) {
      // Someone wrote after our commit: the read-back shows their change, which the guard
      // judges on its own when it hears it. Not a verify failure.
      out.kind = Kind::kRestored;
      out.error = "changed again right after the restore; the read-back was not compared";
      return out;
    }
    const bool same = out.current.table && same_native_table(good, *out.current.table);
    out.kind = same ? Kind::kRestored : Kind::kVerifyFailed;
    if (!same) out.error = "the table read back differs from the snapshot";
    return out;
  }
  out.kind = Kind::kFailed;
  out.error = "the ruleset kept changing under the restore";
  return out;
}

}  // namespace ng::netfilter::native
