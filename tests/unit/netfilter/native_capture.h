#pragma once

#include <string>
#include <vector>

#include "netfilter/native/native_snapshot.h"
#include "netfilter/nft/nft_table_wire.h"
#include "tests/unit/netfilter/nft_capture.h"

namespace ng::testing {

// A native table as captured from the real kernel (data/native/<table>.hex, made by
// data/native/capture-native-tables.sh from the .nft files beside it).
inline netfilter::native::NativeTableSnapshot native_capture(const std::string& table,
                                                             int nfproto) {
  netfilter::native::NativeTableSnapshot s;
  s.table = {nfproto, table};
  auto cb = [](void* ctx, int kind, const void* attrs, size_t len) {
    static_cast<std::vector<netfilter::native::NativeMsg>*>(ctx)->push_back(
        {static_cast<netfilter::native::NativeKind>(kind),
         std::string(static_cast<const char*>(attrs), len)});
  };
  for (const auto& r : nft_hex_replies("native/" + table + ".hex")) {
    std::uint32_t genid = 0;
    const int rc =
        ngnft_table_parse(r.data(), r.size(), nfproto, table.c_str(), cb, &s.msgs, &genid);
    EXPECT_GE(rc, 0);
    if (genid) s.genid = genid;
  }
  s.counts = netfilter::native::count_native(s.msgs);
  return s;
}

// The same table without the messages `drop` picks (a flush, a deletion).
template <class Pred>
netfilter::native::NativeTableSnapshot without(netfilter::native::NativeTableSnapshot s,
                                               Pred drop) {
  std::vector<netfilter::native::NativeMsg> kept;
  for (auto& m : s.msgs) {
    if (!drop(m)) kept.push_back(std::move(m));
  }
  s.msgs = std::move(kept);
  s.counts = netfilter::native::count_native(s.msgs);
  return s;
}

}  // namespace ng::testing
