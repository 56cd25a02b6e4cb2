/* Reads one table over and over on ONE netlink socket while other processes commit, and
 * counts the outcomes. A dump given up mid-way (a transaction landed: NLM_F_DUMP_INTR) must
 * leave the socket usable: the next read on it is not refused with EBUSY. Used by
 * tests/integration/nftables/dump_storm_test.sh inside its namespace.
 *
 *   ng_nft_dump_storm TABLE SECONDS      # root, in a network namespace; prints
 *                                        # "ok=N intr=N busy=N other=N"; exit 0 when busy and
 *                                        # other are 0 and some reads succeeded */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netfilter/nft/nft_table_wire.h"

static void ignore(void* ctx, int kind, const void* attrs, size_t len) {
  (void)ctx, (void)kind, (void)attrs, (void)len;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: ng_nft_dump_storm TABLE SECONDS\n");
    return 2;
  }
  ngnft_sock* s = NULL;
  if (ngnft_open(&s) < 0) {
    perror("nftables netlink socket");
    return 1;
  }
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  const double limit = atof(argv[2]);
  long ok = 0, intr = 0, busy = 0, other = 0;
  int last_other = 0;
  do {
    uint32_t genid = 0;
    const int rc =
        ngnft_table_dump(s, 2 /* NFPROTO_IPV4 */, argv[1], 4096, ignore, NULL, &genid, NULL, NULL);
    if (rc == 0)
      ok++;
    else if (rc == -EINTR)
      intr++;
    else if (rc == -EBUSY)
      busy++;
    else
      other++, last_other = rc;
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while ((double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9 < limit);
  ngnft_close(s);
  printf("ok=%ld intr=%ld busy=%ld other=%ld\n", ok, intr, busy, other);
  if (other) fprintf(stderr, "last other error: %s\n", strerror(-last_other));
  return busy == 0 && other == 0 && ok > 0 ? 0 : 1;
}
