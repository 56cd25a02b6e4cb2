// Snapshot files: written on a worker after every accepted snapshot; a failed write leaves the
// guard working from memory, degraded, until a write succeeds again.
#include "netfilter/guard_internal.h"

namespace ng::netfilter {

void Guard::persist(Watch& w) {
  if (opt_.snapshot_dir.empty() || opt_.dry_run) return;
  if (w.persist_in_flight) {
    w.persist_again = true;
    return;
  }
  w.persist_in_flight = true;
  SnapshotHeader h;
  h.backend = w.key.backend;
  h.family = w.key.family;
  h.table = w.key.table;
  h.identity = opt_.identity;
  h.canary = w.canary_expected;
  h.taken_at = w.persisted_taken = w.snapshot_taken;
  d_.workers.post([this, alive = std::weak_ptr<bool>(alive_), key = w.key, h, snapshot = w.snapshot,
                   dir = opt_.snapshot_dir, &files = d_.files, &loop = d_.loop] {
    core::Status st = files.make_dirs(dir);
    if (st)
      st = files.write_atomic(dir + "/" + snapshot_file_name(key.backend, key.family, key.table),
                              encode_snapshot(h, *snapshot));
    loop.post([this, alive, key, st] {
      if (alive.expired()) return;
      Watch* w = find(key);
      if (!w) return;
      w->persist_in_flight = false;
      w->persist_failed = !st;
      if (!st) {
        // A full or read-only state dir: keep guarding from memory; a restart would lose the
        // snapshot, so say so (log once, count, component degraded) until a write succeeds.
        if (persist_error_.empty()) {
          d_.log.warn("netfilter snapshot not persisted; guarding from memory",
                      {{"table", key.str()}, {"error", st.error().message}});
        }
        persist_error_ = st.error().message;
        report_env_error(
            core::EnvError{st.error().kind, "snapshot " + key.str() + ": " + st.error().message});
      } else if (!persist_error_.empty()) {
        // Writable again: write the snapshots that failed before; recovered when none is left.
        bool pending = false;
        for (auto& [k, x] : watches_) {
          if (!x->persist_failed) continue;
          pending = true;
          persist(*x);
        }
        if (!pending) {
          persist_error_.clear();
          d_.log.info("netfilter snapshot persisted again", {{"table", key.str()}});
          maybe_recovered();
        }
      }
      if (w->persist_again) {
        w->persist_again = false;
        persist(*w);
      }
    });
  });
}

}  // namespace ng::netfilter
