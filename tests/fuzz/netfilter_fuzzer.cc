// Fuzz target `fuzz_netfilter`. iptables-save text, snapshot files and nft netlink buffers come
// from outside the process: parsing must never crash, and whatever parses must render and parse
// back to the same thing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "netfilter/nft/nft_netlink.h"
#include "netfilter/save_codec.h"
#include "netfilter/snapshot_store.h"

namespace {
void ignore(void*, const ngnft_change*) {}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto f = ng::netfilter::parse_save(text)) {
    ng::netfilter::RenderOptions o;
    o.blobs = true;
    const std::string once = ng::netfilter::render_save(*f, o);
    auto again = ng::netfilter::parse_save(once);
    if (!again || ng::netfilter::render_save(*again, o) != once) std::abort();
  }
  (void)ng::netfilter::decode_snapshot(text);
  (void)ng::netfilter::split_args(text);
  (void)ngnft_parse(data, size, ignore, nullptr);
  return 0;
}
