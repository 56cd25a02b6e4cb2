#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "netfilter/native/native_table_backend.h"

namespace ng::testing {

// A stateful kernel for the native table guard: tables by reference, one generation id bumped
// by every change. restore() behaves like the kernel's batch: refused whole when the generation
// moved (kRaced), refused when told to fail, else the table becomes the snapshot. Unit tests
// call it on the worker executor they run by hand, so no locking.
class FakeNativeBackend final : public netfilter::native::NativeTableBackend {
 public:
  using Snapshot = netfilter::native::NativeTableSnapshot;

  // Someone else's transaction: the table becomes t (or disappears).
  void set(const netfilter::NftTableRef& ref, std::optional<Snapshot> t) {
    ++genid;
    if (t) {
      t->table = ref;
      tables[ref] = *t;
    } else {
      tables.erase(ref);
    }
  }

  core::Result<netfilter::native::NativeDump> dump(const netfilter::NftTableRef& ref) override {
    ++dumps;
    if (dump_error) return *dump_error;
    netfilter::native::NativeDump d;
    d.genid = genid;
    if (auto it = tables.find(ref); it != tables.end()) {
      d.table = it->second;
      d.table->genid = genid;
    }
    return d;
  }

  netfilter::native::NativeRestore restore(const Snapshot& good, bool exists,
                                           std::uint32_t pinned) override {
    ++restores;
    if (before_restore) before_restore();
    if (pinned != genid) return {netfilter::native::NativeRestoreResult::kRaced, ""};
    if (exists != (tables.count(good.table) > 0)) {
      return {netfilter::native::NativeRestoreResult::kFailed, "exists mismatch"};
    }
    if (fail_restore) return {netfilter::native::NativeRestoreResult::kFailed, "EPERM"};
    ++genid;
    tables[good.table] = good;
    if (corrupt_restore) tables[good.table].msgs.pop_back();  // reads back different
    last_restore_genid = genid;
    if (after_restore) after_restore();
    return {netfilter::native::NativeRestoreResult::kApplied, ""};
  }

  std::map<netfilter::NftTableRef, Snapshot> tables;
  std::uint32_t genid = 1;
  std::uint32_t last_restore_genid = 0;
  int dumps = 0;
  int restores = 0;
  bool fail_restore = false;
  bool corrupt_restore = false;
  std::optional<core::EnvError> dump_error;
  std::function<void()> before_restore;  // e.g. a racing transaction
  std::function<void()> after_restore;   // e.g. a wipe right after the commit
};

}  // namespace ng::testing
