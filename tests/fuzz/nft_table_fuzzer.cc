// Fuzz target `fuzz_nft_table`: the native table guard's netlink parsers and builders
// (netfilter/nft/nft_table_wire.h). A dump reply comes from the kernel: parsing must never
// crash, and every message it yields must describe, canonicalize, split into elements, count
// and encode into a restore batch without crashing either.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "netfilter/native/native_snapshot.h"
#include "netfilter/nft/nft_restore_order.h"
#include "netfilter/nft/nft_table_wire.h"

using namespace ng::netfilter::native;

namespace {
void collect(void* ctx, int kind, const void* attrs, size_t len) {
  static_cast<std::vector<NativeMsg>*>(ctx)->push_back(
      {static_cast<NativeKind>(kind), std::string(static_cast<const char*>(attrs), len)});
}
void elem(void*, const void*, size_t) {}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (int nfproto : {1, 2, 10}) {
    for (const char* table : {"kube-proxy", "calico", "objects"}) {
      NativeTableSnapshot s;
      s.table = {nfproto, table};
      uint32_t genid = 0;
      (void)ngnft_table_parse(data, size, nfproto, table, collect, &s.msgs, &genid);
      s.counts = count_native(s.msgs);
      (void)same_native_table(s, s);
      std::vector<ngnft_tmsg> msgs;
      for (auto& m : s.msgs) {
        ngnft_tmsg_info info;
        (void)ngnft_tmsg_describe(static_cast<int>(m.kind), m.attrs.data(), m.attrs.size(), &info);
        (void)ngnft_setelem_each(m.attrs.data(), m.attrs.size(), elem, nullptr);
        msgs.push_back({static_cast<int>(m.kind), m.attrs.data(), m.attrs.size()});
      }
      ngnft_batch* b = nullptr;
      if (ngnft_table_restore_batch(nfproto, table, 1, msgs.data(), msgs.size(), genid, 1, &b) ==
          0) {
        ngnft_batch_free(b);
      }
    }
  }
  // The same bytes as one stripped message of every kind.
  std::string copy(reinterpret_cast<const char*>(data), size);
  for (int kind = 0; kind < NGNFT_T_KINDS; ++kind) {
    ngnft_tmsg_info info;
    (void)ngnft_tmsg_describe(kind, copy.data(), copy.size(), &info);
    (void)ngnft_setelem_each(copy.data(), copy.size(), elem, nullptr);
    (void)ngnft_tmsg_canonicalize(kind, copy.data(), copy.size());
  }
  // One message of every kind from the same bytes, put in restore order.
  std::vector<ngnft_tmsg> kinds;
  for (int kind = 0; kind < NGNFT_T_KINDS; ++kind) kinds.push_back({kind, data, size});
  size_t* order = nullptr;
  if (ngnft_restore_order(kinds.data(), kinds.size(), &order) == 0) std::free(order);
  return 0;
}
