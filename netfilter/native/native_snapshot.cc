#include "netfilter/native/native_snapshot.h"

#include <algorithm>
#include <map>
#include <set>

#include "netfilter/nft/nft_table_wire.h"

namespace ng::netfilter::native {

namespace {
ngnft_tmsg_info describe(const NativeMsg& m, bool* ok) {
  ngnft_tmsg_info info;
  *ok = ngnft_tmsg_describe(static_cast<int>(m.kind), m.attrs.data(), m.attrs.size(), &info) == 0;
  return info;
}

void add_elem(void* ctx, const void* elem, size_t len) {
  static_cast<std::vector<std::string>*>(ctx)->emplace_back(static_cast<const char*>(elem), len);
}

// Messages with traffic's values zeroed; elements as a sorted multiset per set.
struct Canonical {
  std::vector<NativeMsg> msgs;
  std::map<std::string, std::vector<std::string>> elements;
  bool operator==(const Canonical&) const = default;
};

Canonical canonical(const NativeTableSnapshot& s) {
  Canonical c;
  for (const auto& m : s.msgs) {
    NativeMsg copy = m;
    (void)ngnft_tmsg_canonicalize(static_cast<int>(copy.kind), copy.attrs.data(),
                                  copy.attrs.size());
    if (copy.kind != NativeKind::kElements) {
      c.msgs.push_back(std::move(copy));
      continue;
    }
    bool ok = false;
    const auto info = describe(copy, &ok);
    auto& v = c.elements[ok && info.name ? info.name : ""];
    (void)ngnft_setelem_each(copy.attrs.data(), copy.attrs.size(), add_elem, &v);
  }
  for (auto& [set, v] : c.elements) std::sort(v.begin(), v.end());
  return c;
}
}  // namespace

NativeCounts count_native(const std::vector<NativeMsg>& msgs) {
  NativeCounts n;
  std::set<std::string> base;
  for (const auto& m : msgs) {
    bool ok = false;
    const auto info = describe(m, &ok);
    if (!ok) continue;
    switch (m.kind) {
      case NativeKind::kChain:
        n.chains++;
        if (info.base) {
          n.base_chains++;
          if (info.name) base.insert(info.name);
        }
        break;
      case NativeKind::kRule:
        n.rules++;
        if (info.chain && base.count(info.chain)) n.base_rules++;
        break;
      case NativeKind::kSet:
        n.sets++;
        break;
      case NativeKind::kElements:
        n.elements += info.elements;
        break;
      case NativeKind::kObject:
        n.objects++;
        break;
      case NativeKind::kFlowtable:
        n.flowtables++;
        break;
      case NativeKind::kTable:
        break;
    }
  }
  return n;
}

bool same_native_table(const NativeTableSnapshot& a, const NativeTableSnapshot& b) {
  return a.table == b.table && canonical(a) == canonical(b);
}

namespace {
constexpr std::pair<std::string_view, int> kFamilies[] = {{"ip", 2},  {"ip6", 10},   {"inet", 1},
                                                          {"arp", 3}, {"bridge", 7}, {"netdev", 5}};
}

std::optional<int> nfproto_from_name(std::string_view family) {
  for (const auto& [name, proto] : kFamilies) {
    if (name == family) return proto;
  }
  return std::nullopt;
}

std::string_view nfproto_name(int nfproto) {
  for (const auto& [name, proto] : kFamilies) {
    if (proto == nfproto) return name;
  }
  return "unknown";
}

std::string native_table_id(const NftTableRef& t) {
  return std::string(nfproto_name(t.nfproto)) + " " + t.name;
}

}  // namespace ng::netfilter::native
