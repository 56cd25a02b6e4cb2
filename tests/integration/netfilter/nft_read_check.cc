// Checks that the nft backend's two ways of reading a table agree on the real kernel: the read
// built from a netlink dump alone (rule texts learned from earlier paired reads,
// netfilter/nft/nft_rule_texts.h) and the read through iptables-nft-save. Prints both when
// they differ. Used by tests/integration/netfilter/nft_fast_test.sh inside its namespaces.
//
//   ng_nft_read_check ipv4|ipv6 TABLE...     # root, inside a network namespace; exit 0: equal
#include <cstdio>
#include <string>

#include "core/process_runner.h"
#include "netfilter/nft/nft_backend.h"
#include "netfilter/save_codec.h"

using namespace ng::netfilter;

int main(int argc, char** argv) {
  if (argc < 3 || (std::string(argv[1]) != "ipv4" && std::string(argv[1]) != "ipv6")) {
    std::fprintf(stderr, "usage: ng_nft_read_check ipv4|ipv6 TABLE...\n");
    return 2;
  }
  const Family f = std::string(argv[1]) == "ipv4" ? Family::kIPv4 : Family::kIPv6;
  ng::core::PosixProcessRunner runner;
  NftBackend::Options tool_only;
  tool_only.read_from_dump = false;
  NftBackend by_tool(runner, tool_only);
  NftBackend by_dump(runner);
  const RenderOptions plain{.comments = false, .counters = false, .blobs = true};
  int bad = 0;
  for (int i = 2; i < argc; ++i) {
    const std::string table = argv[i];
    // The first read pairs and learns; the second must come from the dump alone.
    auto learn = by_dump.read(f, table);
    const auto before = by_dump.reads_from_dump();
    auto dump = by_dump.read(f, table);
    if (by_dump.reads_from_dump() != before + 1) {
      std::fprintf(stderr, "%s: the second read did not come from the dump alone\n", table.c_str());
      ++bad;
    }
    auto tool = by_tool.read(f, table);
    if (!learn || !dump || !tool) {
      std::fprintf(stderr, "%s: read failed: %s\n", table.c_str(),
                   (!learn  ? learn.error()
                    : !dump ? dump.error()
                            : tool.error())
                       .message.c_str());
      return 1;
    }
    const std::string a = render_table(*dump, plain);
    const std::string b = render_table(*tool, plain);
    if (a != b) {
      std::fprintf(
          stderr,
          "%s: the read from the dump differs from iptables-nft-save\n--- dump\n%s--- tool\n%s",
          table.c_str(), a.c_str(), b.c_str());
      ++bad;
    }
  }
  if (bad) return 1;
  std::printf("nft reads from the dump equal iptables-nft-save for %d table(s)\n", argc - 2);
  return 0;
}
