// Captures the netlink dump of one nftables table as the nft backend reads it (table, chains,
// rules), one hex line per reply buffer: the test data of tests/unit/netfilter/nft_replay_test.cc
// (tests/unit/netfilter/data/capture-nft-dump.sh runs it in a namespace it builds).
//
//   nft_dump_capture ipv4 nat > nat.hex     # root, inside a network namespace
#include <cstdio>
#include <string>

#include "netfilter/nft/nft_netlink.h"
#include "netfilter/nft/nft_replay_wire.h"

namespace {
void tap(void*, const void* buf, size_t len) {
  const auto* p = static_cast<const unsigned char*>(buf);
  for (size_t i = 0; i < len; ++i) std::printf("%02x", p[i]);
  std::printf("\n");
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[1]) != "ipv4" && std::string(argv[1]) != "ipv6")) {
    std::fprintf(stderr, "usage: nft_dump_capture ipv4|ipv6 TABLE\n");
    return 2;
  }
  ngnft_sock* s = nullptr;
  if (int rc = ngnft_open(&s); rc < 0) {
    std::fprintf(stderr, "netlink socket: error %d\n", -rc);
    return 1;
  }
  const ngnft_dump_cb none = {nullptr, nullptr, nullptr};
  const int rc = ngnft_dump_table_tap(s, std::string(argv[1]) == "ipv4" ? 4 : 6, argv[2], &none,
                                      nullptr, tap, nullptr);
  ngnft_close(s);
  if (rc < 0) {
    std::fprintf(stderr, "dump of %s: error %d\n", argv[2], -rc);
    return 1;
  }
  return 0;
}
