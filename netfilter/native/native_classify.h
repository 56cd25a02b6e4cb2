#pragma once

#include <optional>
#include <string>
#include <vector>

#include "netfilter/change_writer.h"
#include "netfilter/native/native_snapshot.h"

namespace ng::netfilter::native {

// Who wrote, as far as the guard can tell: the generation's writer, the name of its parent
// process when it still existed (owners commit through `nft`: knftables execs it), and whether
// the commit was ours.
struct NativeWriter {
  ChangeWriter writer;
  std::string parent_comm;
  bool self = false;
};

// The owner: its comm or its parent's is in the table's owner list.
bool is_owner(const NativeWriter& w, const std::vector<std::string>& owners);

// Why a change looks like a wipe, or empty when it does not (pure): "table_deleted",
// "chains_deleted" (the table is there, its chains are not), "base_chains_emptied" (the base
// chains held rules and now hold none).
std::string wipe_shape(const NativeTableSnapshot& before,
                       const std::optional<NativeTableSnapshot>& after);

enum class NativeVerdict { kLearn, kWipe };

struct NativeChange {
  NativeVerdict verdict = NativeVerdict::kLearn;
  std::string shape;   // wipe_shape(), for a wipe
  std::string why;     // for logs: "owner", "not wipe-shaped", "own write"
  NativeWriter wiper;  // the writer blamed for a wipe
};

// The rule (docs/nftables.md): a change is repaired only when it is wipe-shaped and some
// writer since the snapshot was neither the owner nor us; everything else is learned.
// writers: every transaction that touched the table since the snapshot (oldest first);
// empty means unknown (lost notifications), which counts as not the owner.
NativeChange classify_native_change(const NativeTableSnapshot& before,
                                    const std::optional<NativeTableSnapshot>& after,
                                    const std::vector<NativeWriter>& writers,
                                    const std::vector<std::string>& owners);

}  // namespace ng::netfilter::native
