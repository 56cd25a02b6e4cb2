// Wipe -> restored latency of the native table guard (run by tools/bench/nft-native-bench.sh,
// root, inside the namespace where nodeguard guards the table):
//
//   nft_native_bench FAMILY TABLE WIPES
//
// Each round deletes the table in one transaction of its own (as `nft delete table` or the
// table's part of `nft flush ruleset`), then times until the monitor hears the transaction that
// re-creates it (committed by another process: the agent), and waits for the agent to finish
// its read-back before the next round. Prints p50, p99 and max in milliseconds.
#include <linux/netfilter/nf_tables.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "netfilter/native/native_snapshot.h"
#include "netfilter/nft/nft_netlink.h"
#include "netfilter/nft/nft_replay_wire.h"

namespace {
using Clock = std::chrono::steady_clock;

struct Watch {
  int nfproto;
  std::string table;
  bool created = false;  // a NEWTABLE of ours in the transaction being heard
  bool restored = false;
  unsigned self;
};

void on_change(void* ctx, const ngnft_change* c) {
  auto* w = static_cast<Watch*>(ctx);
  if (c->table && c->nfproto == w->nfproto && w->table == c->table && c->msg == NFT_MSG_NEWTABLE) {
    w->created = true;
  }
  if (c->msg == NFT_MSG_NEWGEN) {
    if (w->created && c->proc_pid != w->self) w->restored = true;
    w->created = false;
  }
}

// HH:MM:SS.mmm (UTC), as the agent's log stamps its lines.
std::string wall_ms(std::chrono::system_clock::time_point t) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

int delete_table(int nfproto, const std::string& table, uint32_t seq) {
  ngnft_sock* s = nullptr;
  if (ngnft_open(&s) < 0) return -1;
  ngnft_batch* b = ngnft_batch_begin_nfproto(static_cast<uint8_t>(nfproto), 0, seq);
  std::vector<unsigned char> attr(4 + ((table.size() + 1 + 3) & ~3u), 0);
  const uint16_t len = static_cast<uint16_t>(4 + table.size() + 1), type = NFTA_TABLE_NAME;
  std::memcpy(attr.data(), &len, 2);
  std::memcpy(attr.data() + 2, &type, 2);
  std::memcpy(attr.data() + 4, table.c_str(), table.size() + 1);
  int rc = ngnft_batch_put(b, NFT_MSG_DELTABLE, 0, attr.data(), attr.size());
  if (rc == 0) rc = ngnft_batch_end(b);
  int failed = -1;
  if (rc == 0) rc = ngnft_batch_send(s, b, 5000, &failed);
  ngnft_batch_free(b);
  ngnft_close(s);
  return rc;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: nft_native_bench FAMILY TABLE WIPES\n");
    return 2;
  }
  const auto proto = ng::netfilter::native::nfproto_from_name(argv[1]);
  if (!proto) return 2;
  Watch w{*proto, argv[2], false, false, static_cast<unsigned>(::getpid())};
  const int wipes = std::stoi(argv[3]);
  const int fd = ngnft_monitor_open(1 << 28);
  if (fd < 0) return 1;
  std::vector<double> ms;
  const bool raw = std::getenv("NG_BENCH_RAW") != nullptr;  // each round's wall times on stderr
  for (int i = 0; i < wipes; ++i) {
    (void)ngnft_monitor_drain(fd, on_change, &w);
    w.restored = false;
    if (delete_table(*proto, argv[2], 1000 + i * 4) != 0) {
      std::fprintf(stderr, "round %d: the table could not be deleted\n", i);
      return 1;
    }
    const auto t0 = Clock::now();
    while (!w.restored) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 300000) <= 0) {
        std::fprintf(stderr, "round %d: not restored within 300 s\n", i);
        return 1;
      }
      if (ngnft_monitor_drain(fd, on_change, &w) == -ENOBUFS) {
        // A big restore's notifications overflowed even this buffer: ask whether it is back.
        w.created = false;
        const std::string q = "nft list tables " + std::string(argv[1]) + " | grep -qx 'table " +
                              std::string(argv[1]) + " " + argv[2] + "'";
        if (std::system(q.c_str()) == 0) w.restored = true;
      }
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (raw) {  // wall clock, to line up with the agent's log (its "native table wiped" line)
      const auto wall = std::chrono::system_clock::now();
      const auto ack =
          wall - std::chrono::duration_cast<std::chrono::system_clock::duration>(Clock::now() - t0);
      std::fprintf(stderr, "round %d deleted (ack) %s restored seen %s: %.1f ms\n", i,
                   wall_ms(ack).c_str(), wall_ms(wall).c_str(), ms.back());
    }
    // Let the agent read back and settle before the next wipe (not part of the figure).
    std::this_thread::sleep_for(std::chrono::milliseconds(100) +
                                std::chrono::milliseconds(static_cast<int>(ms.back())));
  }
  ngnft_monitor_close(fd);
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(p * ms.size()))];
  };
  std::printf("wipes %zu wipe->restored p50 %.1f ms p99 %.1f ms max %.1f ms\n", ms.size(),
              pct(0.50), pct(0.99), ms.back());
  return 0;
}
