// The native table guard's wire layer by hand, for test data and quick checks (root, inside a
// network namespace):
//
//   nft_table_capture capture ip kube-proxy > kp.hex   # every dump reply buffer, one hex line each
//   nft_table_capture roundtrip ip kube-proxy          # dump, restore over it in one batch,
//                                                      # read back, compare; prints counts, times
//
// tests/unit/netfilter/data/capture-native-tables.sh runs `capture` on the tables it builds.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "netfilter/native/native_snapshot.h"
#include "netfilter/native/netlink_native_backend.h"
#include "netfilter/nft/nft_netlink.h"
#include "netfilter/nft/nft_table_wire.h"

using namespace ng::netfilter;

namespace {
void tap(void*, const void* buf, size_t len) {
  const auto* p = static_cast<const unsigned char*>(buf);
  for (size_t i = 0; i < len; ++i) std::printf("%02x", p[i]);
  std::printf("\n");
}
void none(void*, int, const void*, size_t) {}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

int roundtrip(const NftTableRef& ref) {
  native::NetlinkNativeBackend backend;
  auto t0 = std::chrono::steady_clock::now();
  auto d = backend.dump(ref);
  const double dump_ms = ms_since(t0);
  if (!d || !d->table) {
    std::fprintf(stderr, "dump failed or table absent\n");
    return 1;
  }
  const auto& c = d->table->counts;
  std::printf(
      "chains %zu base %zu rules %zu base_rules %zu sets %zu elements %zu objects %zu "
      "flowtables %zu messages %zu\n",
      c.chains, c.base_chains, c.rules, c.base_rules, c.sets, c.elements, c.objects, c.flowtables,
      d->table->msgs.size());
  t0 = std::chrono::steady_clock::now();
  auto r = backend.restore(*d->table, true, d->genid);
  const double restore_ms = ms_since(t0);
  if (r.result != native::NativeRestoreResult::kApplied) {
    std::fprintf(stderr, "restore: %s\n", r.error.c_str());
    return 1;
  }
  auto back = backend.dump(ref);
  const bool same = back && back->table && native::same_native_table(*d->table, *back->table);
  std::printf("dump %.1f ms restore %.1f ms read-back %s\n", dump_ms, restore_ms,
              same ? "equal" : "DIFFERENT");
  // The same restore into an empty place (the table deleted, as `nft delete table` leaves it).
  const std::string del =
      "nft delete table " + std::string(native::nfproto_name(ref.nfproto)) + " " + ref.name;
  if (std::system(del.c_str()) != 0) return 1;
  auto gone = backend.dump(ref);
  if (!gone) return 1;
  t0 = std::chrono::steady_clock::now();
  r = backend.restore(*d->table, false, gone->genid);
  std::printf("restore into nothing %.1f ms (%s)\n", ms_since(t0), r.error.c_str());
  return same ? 0 : 1;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: nft_table_capture capture|roundtrip FAMILY TABLE\n");
    return 2;
  }
  const std::string mode = argv[1];
  const auto proto = native::nfproto_from_name(argv[2]);
  if (!proto) {
    std::fprintf(stderr, "unknown family %s\n", argv[2]);
    return 2;
  }
  if (mode == "roundtrip") return roundtrip(NftTableRef{*proto, argv[3]});
  ngnft_sock* s = nullptr;
  if (int rc = ngnft_open(&s); rc < 0) {
    std::fprintf(stderr, "netlink socket: error %d\n", -rc);
    return 1;
  }
  uint32_t genid = 0;
  const int rc = ngnft_table_dump(s, *proto, argv[3], 4096, none, nullptr, &genid, tap, nullptr);
  ngnft_close(s);
  if (rc < 0) {
    std::fprintf(stderr, "dump of %s: error %d\n", argv[3], -rc);
    return 1;
  }
  return 0;
}
