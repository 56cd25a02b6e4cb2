#pragma once

#include <optional>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "netfilter/rule_model.h"

namespace ng::netfilter {

// The last-known-good snapshot of one table on disk, so a restarted agent can still repair a
// flush that happened while it was down. The file is iptables-save text (with "#blob" lines for
// legacy rules) behind one header line. The header names the boot and the network namespace it
// was taken in: a snapshot from another boot or namespace describes pods that no longer exist
// and is discarded instead of being "restored".
struct SnapshotHeader {
  BackendKind backend = BackendKind::kNft;
  Family family = Family::kIPv4;
  std::string table;
  std::string identity;  // boot id + network namespace, see host_identity()
  bool canary = false;   // our canary chain was in the table
  // When the snapshot was last confirmed against the live table (wall clock, whole seconds):
  // an old snapshot is trusted less (snapshot_pruning.h). nullopt: written by a version that
  // did not record it, so its age is unknown and it counts as old.
  std::optional<core::WallTime> taken_at;
};

struct LoadedSnapshot {
  SnapshotHeader header;
  Table table;
};

std::string snapshot_file_name(BackendKind b, Family f, const std::string& table);
std::string encode_snapshot(const SnapshotHeader& h, const Table& t);
// kInvalidInput on a bad header or body.
core::Result<LoadedSnapshot> decode_snapshot(std::string_view text);

// "<boot id>/<netns inode>" of this process: /proc/sys/kernel/random/boot_id and the inode of
// /proc/self/ns/net. Empty parts when unreadable.
std::string host_identity();

}  // namespace ng::netfilter
