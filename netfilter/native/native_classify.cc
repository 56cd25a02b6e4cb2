#include "netfilter/native/native_classify.h"

#include <algorithm>

namespace ng::netfilter::native {

bool is_owner(const NativeWriter& w, const std::vector<std::string>& owners) {
  auto named = [&](const std::string& comm) {
    return !comm.empty() && std::find(owners.begin(), owners.end(), comm) != owners.end();
  };
  return named(w.writer.comm) || named(w.parent_comm);
}

std::string wipe_shape(const NativeTableSnapshot& before,
                       const std::optional<NativeTableSnapshot>& after) {
  const auto& b = before.counts;
  // A table that held nothing (`nft add table` alone) owes nothing: deleting it is no wipe.
  if (b.chains + b.sets + b.objects + b.flowtables == 0) return "";
  if (!after) return "table_deleted";
  const auto& a = after->counts;
  if (b.chains > 0 && a.chains == 0) return "chains_deleted";
  if (b.base_rules > 0 && a.base_rules == 0) return "base_chains_emptied";
  return "";
}

NativeChange classify_native_change(const NativeTableSnapshot& before,
                                    const std::optional<NativeTableSnapshot>& after,
                                    const std::vector<NativeWriter>& writers,
                                    const std::vector<std::string>& owners) {
  NativeChange c;
  const std::string shape = wipe_shape(before, after);
  if (shape.empty()) {
    c.why = "not wipe-shaped";
    return c;
  }
  // The latest writer that is neither the owner nor us is the one to blame.
  std::optional<NativeWriter> foreign;
  for (const auto& w : writers) {
    if (!w.self && !is_owner(w, owners)) foreign = w;
  }
  const bool all_self = !writers.empty() && std::all_of(writers.begin(), writers.end(),
                                                        [](const auto& w) { return w.self; });
  if (all_self) {
    c.why = "own write";
    return c;
  }
  if (!writers.empty() && !foreign) {
    c.why = "owner";
    return c;
  }
  c.verdict = NativeVerdict::kWipe;
  c.shape = shape;
  c.why = foreign ? "foreign writer" : "writer unknown";
  if (foreign) c.wiper = *foreign;
  return c;
}

}  // namespace ng::netfilter::native
