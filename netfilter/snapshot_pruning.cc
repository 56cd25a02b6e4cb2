#include "netfilter/snapshot_pruning.h"

#include <openssl/evp.h>

#include <map>

#include "netfilter/cni/portmap_rules.h"

namespace ng::netfilter {

namespace {

constexpr size_t kChainNameLength = 28;  // the plugins' maxChainLength

// Reads `"<value>"` at the front of s; advances s past it.
std::optional<std::string> quoted(std::string_view& s) {
  if (s.empty() || s.front() != '"') return std::nullopt;
  const size_t end = s.find('"', 1);
  if (end == std::string_view::npos) return std::nullopt;
  std::string v(s.substr(1, end - 1));
  s.remove_prefix(end + 1);
  return v;
}

bool consume(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  s.remove_prefix(prefix.size());
  return true;
}

struct Judgement {
  bool drop = false;
  PruneReason reason = PruneReason::kNoCacheEntry;
  std::string why;
};

Judgement judge(const std::string& id, const PodVouchers* v, bool old) {
  if (!v || !v->cache_readable) {
    if (!old) return {};
    return {true, PruneReason::kUnvouchedOld,
            std::string("the snapshot is old and no readable CNI cache vouches for the pod")};
  }
  if (v->vouched.count(id)) return {};
  for (const auto& f : v->unparsed_files) {
    if (f.find("-" + id + "-") != std::string::npos) return {};  // cannot tell: keep
  }
  if (v->unverified.count(id)) {
    if (!old) return {};
    return {true, PruneReason::kUnverifiedOld,
            "the snapshot is old and the pod's network namespace cannot be checked"};
  }
  if (v->stale.count(id)) {
    return {true, PruneReason::kSandboxGone,
            "its CNI cache entry is stale: the pod's network namespace is gone"};
  }
  return {true, PruneReason::kNoCacheEntry, "the CNI cache holds no entry for the container"};
}

bool has_rule(const Chain* c, const Rule& r) {
  if (!c) return false;
  for (const auto& x : c->rules) {
    if (x.spec == r.spec) return true;
  }
  return false;
}

}  // namespace

std::optional<CniPodRef> cni_pod_of(std::string_view comment) {
  std::string_view s = comment;
  (void)consume(s, "dnat ");
  if (!consume(s, "name: ")) return std::nullopt;
  auto net = quoted(s);
  if (!net || !consume(s, " id: ")) return std::nullopt;
  auto id = quoted(s);
  if (!id || !s.empty() || id->empty() || net->empty()) return std::nullopt;
  return CniPodRef{std::move(*net), std::move(*id)};
}

std::string cni_bridge_chain_name(const std::string& network, const std::string& container_id) {
  const std::string data = network + container_id;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha512(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "CNI-";
  for (unsigned int i = 0; i < len && out.size() < kChainNameLength; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  out.resize(kChainNameLength);
  return out;
}

std::string_view to_string(PruneReason r) {
  switch (r) {
    case PruneReason::kNoCacheEntry:
      return "no_cache_entry";
    case PruneReason::kSandboxGone:
      return "sandbox_gone";
    case PruneReason::kUnverifiedOld:
      return "unverified_old";
    case PruneReason::kUnvouchedOld:
      return "unvouched_old";
  }
  return "unknown";
}

PruneResult prune_snapshot(const Table& snapshot, const Table& current, const PodVouchers* vouchers,
                           bool snapshot_old) {
  PruneResult out;
  // A fresh snapshot and nobody to ask: trusted as it is.
  if (!snapshot_old && (!vouchers || !vouchers->cache_readable)) return out;
  // The pods the snapshot names, judged once each.
  std::map<std::string, Judgement> judged;  // container id -> verdict
  // The dead pods' chains that the table lacks -> their pod.
  std::map<std::string, std::pair<CniPodRef, Judgement>> pod_chains;
  for (const auto& c : snapshot.chains) {
    for (const auto& r : c.rules) {
      if (r.comment.empty()) continue;
      auto pod = cni_pod_of(r.comment);
      if (!pod) continue;
      auto it = judged.find(pod->container_id);
      if (it == judged.end()) {
        it = judged.emplace(pod->container_id, judge(pod->container_id, vouchers, snapshot_old))
                 .first;
      }
      if (!it->second.drop) continue;
      for (auto name : {cni::dnat_chain_name(pod->network, pod->container_id),
                        cni_bridge_chain_name(pod->network, pod->container_id)}) {
        if (snapshot.has(name) && !current.has(name)) {
          pod_chains.emplace(name, std::pair{*pod, it->second});
        }
      }
    }
  }
  bool any_dead = false;
  for (const auto& [id, j] : judged) any_dead = any_dead || j.drop;
  if (!any_dead) return out;
  ChainIndex cur(current);
  std::map<std::string, size_t> entry_of;  // chain (or "id\nchain" for loose rules) -> index
  auto entry = [&](const std::string& key, const std::string& chain, bool whole,
                   const CniPodRef& pod, const Judgement& j) -> PrunedEntry& {
    auto [it, fresh] = entry_of.emplace(key, out.dropped.size());
    if (fresh) {
      out.dropped.push_back(
          PrunedEntry{chain, whole, pod.network, pod.container_id, 0, j.reason, j.why});
    }
    return out.dropped[it->second];
  };
  Table pruned;
  pruned.name = snapshot.name;
  pruned.before = snapshot.before;
  pruned.after = snapshot.after;
  for (const auto& c : snapshot.chains) {
    if (auto pc = pod_chains.find(c.name); pc != pod_chains.end()) {
      entry(c.name, c.name, true, pc->second.first, pc->second.second).rules += c.rules.size();
      out.rules_dropped += c.rules.size();
      continue;
    }
    Chain kept = c;
    kept.rules.clear();
    const Chain* now = cur.find(c.name);
    for (const auto& r : c.rules) {
      if (auto pc = pod_chains.find(r.target); !r.target.empty() && pc != pod_chains.end()) {
        entry(pc->first, pc->first, true, pc->second.first, pc->second.second).rules++;
        ++out.rules_dropped;
        continue;
      }
      auto pod = r.comment.empty() ? std::nullopt : cni_pod_of(r.comment);
      if (pod && judged[pod->container_id].drop && !has_rule(now, r)) {
        entry(pod->container_id + "\n" + c.name, c.name, false, *pod, judged[pod->container_id])
            .rules++;
        ++out.rules_dropped;
        continue;
      }
      kept.rules.push_back(r);
    }
    pruned.chains.push_back(std::move(kept));
  }
  if (!out.dropped.empty()) out.table = std::move(pruned);
  return out;
}

}  // namespace ng::netfilter
