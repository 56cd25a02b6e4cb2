#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "netfilter/change_writer.h"

namespace ng::netfilter {

// The bounded `writer` label of nodeguard_netfilter_drift_events_total and
// nodeguard_netfilter_repairs_total (docs/metrics.md), shared by every guard that records to
// them (the iptables guard and the native nftables table guard): one instance per registry
// owner, used on the loop.
//
// Values: the kernel's comm of the committing process (15 characters at most: the kernel cuts
// task names, so iptables-restore is `iptables-restor` and iptables-nft-restore
// `iptables-nft-re`), kept as it is when it is on the allow-list of the usual writers, or among
// the first `max_learned` other names seen; every later name is `other`; `unknown` when there
// is no writer (legacy iptables, a generation heard without a process, no notification).
// At most kAllowList + max_learned + 2 values, whatever the node runs.
class WriterLabels {
 public:
  static constexpr size_t kDefaultLearned = 8;
  static constexpr std::string_view kUnknown = "unknown";
  static constexpr std::string_view kOther = "other";

  explicit WriterLabels(size_t max_learned = kDefaultLearned) : max_learned_(max_learned) {}

  // The label for a writer's comm; learns the name while there is room.
  std::string label(std::string_view comm);
  std::string label(const std::optional<ChangeWriter>& writer);

  // The usual writers of a node's firewall, as their comm reads.
  static bool allow_listed(std::string_view comm);
  // Only [A-Za-z0-9._-], at most 15 characters; anything else in a comm becomes '_'.
  static std::string sanitize(std::string_view comm);
  size_t learned() const { return learned_.size(); }

 private:
  size_t max_learned_;
  std::set<std::string, std::less<>> learned_;
};

}  // namespace ng::netfilter
