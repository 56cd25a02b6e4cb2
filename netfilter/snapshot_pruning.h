#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "netfilter/rule_model.h"

namespace ng::netfilter {

// Who still vouches for the pods whose rules a snapshot holds: libcni's result cache (the
// runtime removes a pod's entry after its CNI DEL) and the sandboxes' network namespaces.
// Built by the CNI component after every look at the cache; immutable once handed over.
struct PodVouchers {
  bool cache_readable = false;       // false: the cache could not be listed; nothing is known
  std::set<std::string> vouched;     // container ids: a cache entry, its namespace present
  std::set<std::string> stale;       // a cache entry, its namespace certainly gone
  std::set<std::string> unverified;  // a cache entry, its namespace cannot be told
  // Cache files that could not be parsed (junk, a write in progress): a container id that
  // appears in one of these names is not judged.
  std::vector<std::string> unparsed_files;
};

// The CNI pod a rule belongs to, from the comment the plugins write: bridge's masquerade rules
// `name: "<net>" id: "<containerid>"`, portmap's DNAT entry jump `dnat name: "<net>" id: "<id>"`.
// nullopt for any other comment (and for comments portmap cut at 255 characters).
struct CniPodRef {
  std::string network;
  std::string container_id;
};
std::optional<CniPodRef> cni_pod_of(std::string_view comment);

// The per-container chains the plugins name after (network, container id): portmap's
// "CNI-DN-<sha512 hex>" and bridge's masquerade chain "CNI-<sha512 hex>", both cut to 28.
std::string cni_bridge_chain_name(const std::string& network, const std::string& container_id);

// Why an entry was dropped; the label of nodeguard_netfilter_snapshot_pruned_total.
enum class PruneReason {
  kNoCacheEntry,   // the cache is readable and holds no entry for the container
  kSandboxGone,    // its cache entry is there but its network namespace is gone
  kUnverifiedOld,  // its namespace cannot be told and the snapshot is old
  kUnvouchedOld,   // no readable cache vouches for anything and the snapshot is old
};
std::string_view to_string(PruneReason r);  // no_cache_entry | sandbox_gone | ...
inline constexpr PruneReason kPruneReasons[] = {
    PruneReason::kNoCacheEntry, PruneReason::kSandboxGone, PruneReason::kUnverifiedOld,
    PruneReason::kUnvouchedOld};

struct PrunedEntry {
  std::string chain;  // the pod's chain, or the shared chain a loose rule of the pod was in
  bool whole_chain = false;
  std::string network;
  std::string container_id;
  size_t rules = 0;  // rules dropped with it (a chain's own rules and the jumps into it)
  PruneReason reason = PruneReason::kNoCacheEntry;
  std::string why;  // in words, for the log
};

struct PruneResult {
  std::optional<Table> table;  // the snapshot without the dropped entries; nullopt: none dropped
  std::vector<PrunedEntry> dropped;
  size_t rules_dropped = 0;
};

// Pure: drops from `snapshot` what belongs to CNI pods nobody vouches for and is missing from
// `current` (what the table still holds is never dropped: it is live, and new chains of a pod
// whose cache entry is not written yet are there first). A pod's chains go with every jump into
// them; its loose rules (comment with its id) go alone. The trust rule:
//   * vouchers readable: kept for vouched containers and for ids named by an unparsed cache
//     file; kept for unverified sandboxes while the snapshot is fresh; dropped otherwise;
//   * no vouchers (no CNI cache configured, or unreadable): kept while the snapshot is fresh,
//     dropped when it is old.
// `vouchers` may be null.
PruneResult prune_snapshot(const Table& snapshot, const Table& current, const PodVouchers* vouchers,
                           bool snapshot_old);

}  // namespace ng::netfilter
