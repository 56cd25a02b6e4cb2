// Mixed firewall modes (issue 19, item 4): both iptables backends holding rules, native
// nftables rules inside iptables-nft tables, kube-proxy in nftables mode beside Calico in
// iptables mode. At start and at every verify tick a worker summarizes every iptables table of
// every usable backend (nat, filter, mangle, raw and the guarded ones; a table whose change token
// did not move keeps its summary) and lists the native tables; the loop sets the conditions
// (mixed_modes.h decides, pure).
#include "netfilter/guard_internal.h"

namespace ng::netfilter {

namespace {
std::vector<std::string> scanned_tables(const GuardPolicy& policy) {
  std::vector<std::string> out = {"nat", "filter", "mangle", "raw"};
  for (const auto& t : policy.tables()) {
    if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
  }
  return out;
}
}  // namespace

void Guard::scan_mixed_modes() {
  if (phase_ != Phase::kRunning || mixed_in_flight_) return;
  std::vector<std::pair<TableKey, std::shared_ptr<Backend>>> targets;
  MixedModeInput known;  // what the guard's own watches already say
  for (const auto& b : backends_) {
    for (Family f : opt_.families) {
      if (!usable_[{b->kind(), f}]) continue;
      for (const auto& t : scanned_tables(*policy_)) {
        const TableKey k{b->kind(), f, t};
        const Watch* w = find(k);
        // A read of a watched nft table would replace the kernel view the backend plans its
        // next repair against: the watch's own snapshot and last error tell enough.
        if (w && k.backend == BackendKind::kNft) {
          TableHolding h = summarize_table(k.backend, k.family, *w->snapshot);
          h.table = t;
          if (w->last_error.find("incompatible") != std::string::npos) {
            h.incompatible = w->last_error.substr(0, 300);
          } else {
            h.incompatible = w->save_note;
          }
          known.tables.push_back(std::move(h));
          continue;
        }
        targets.push_back({k, b});
      }
    }
  }
  mixed_in_flight_ = true;
  d_.workers.post([this, alive = std::weak_ptr<bool>(alive_), targets = std::move(targets),
                   held = mixed_held_, lister = native_lister_, in = std::move(known),
                   &loop = d_.loop]() mutable {
    for (const auto& [k, b] : targets) {
      std::optional<std::uint64_t> token;
      if (auto t = b->change_token(k.family, k.table)) token = *t;
      auto it = held.find(k);
      if (token && it != held.end() && it->second.token == token) {
        in.tables.push_back(it->second.holding);
        continue;
      }
      auto read = b->read(k.family, k.table);
      TableHolding h;
      if (read) {
        h = summarize_table(k.backend, k.family, *read);
      } else {
        h.backend = k.backend;
        h.family = k.family;
        // Only the refusal of iptables-nft-save is news here; other read errors are the
        // guard's own to report (or a table that is not there).
        if (read.error().message.find("incompatible") != std::string::npos) {
          h.incompatible = read.error().message.substr(0, 300);
        }
      }
      h.table = k.table;
      held[k] = HeldTable{token, h};
      in.tables.push_back(std::move(h));
    }
    if (lister) {
      if (auto n = lister()) {
        in.native_tables = std::move(*n);
        in.native_tables_known = true;
      }
    }
    loop.post([this, alive, held = std::move(held), in = std::move(in)]() mutable {
      if (alive.expired()) return;
      mixed_in_flight_ = false;
      mixed_held_ = std::move(held);
      on_mixed_modes(in);
    });
  });
}

void Guard::on_mixed_modes(const MixedModeInput& in) {
  for (const auto& c : assess_mixed_modes(in)) {
    const std::string now = c.active ? c.message : "";
    auto& last = mixed_set_[c.type];
    if (now == last) continue;
    last = now;
    d_.health.set_condition(c);
    if (c.active) {
      d_.log.warn("netfilter mixed firewall modes",
                  {{"condition", c.type}, {"message", c.message}});
    } else {
      d_.log.info("netfilter mixed firewall modes cleared", {{"condition", c.type}});
    }
  }
}

}  // namespace ng::netfilter
