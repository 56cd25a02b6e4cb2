/* nftables netlink (NETLINK_NETFILTER, libmnl) behind a small C API: the ruleset generation id
 * (a cheap change check) and the NFNLGRP_NFTABLES change notifications that `nft monitor` and
 * xtables-monitor read. Kernel headers stay in the .c file. Functions return 0 or -errno. */
#ifndef NODEGUARD_NETFILTER_NFT_NFT_NETLINK_H
#define NODEGUARD_NETFILTER_NFT_NFT_NETLINK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ngnft_sock ngnft_sock;

/* A request socket for ngnft_get_genid. */
int ngnft_open(ngnft_sock** out);
void ngnft_close(ngnft_sock* s);
/* NFT_MSG_GETGEN: the id the kernel bumps on every nftables transaction. */
int ngnft_get_genid(ngnft_sock* s, uint32_t* genid);

/* A non-blocking socket subscribed to NFNLGRP_NFTABLES; rcvbuf bytes of receive buffer
 * (SO_RCVBUFFORCE when permitted). Returns the fd or -errno. */
int ngnft_monitor_open(int rcvbuf);
void ngnft_monitor_close(int fd);
/* Joins (on != 0) or leaves NFNLGRP_NFTABLES on a monitor socket; messages already queued stay. */
int ngnft_monitor_listen(int fd, int on);

/* One nftables message as the monitor sees it. Pointers are valid during the callback only. */
typedef struct ngnft_change {
  int msg;           /* NFT_MSG_* type */
  int family;        /* 4, 6 or 0 (other families: inet, arp, bridge, netdev) */
  int nfproto;       /* the raw family (NFPROTO_*), for native tables of any family */
  const char* table; /* the table the message is about; NULL for NFT_MSG_NEWGEN */
  /* NFT_MSG_NEWGEN (the end of a transaction) only: the new generation and the process that
   * committed it (NFTA_GEN_PROC_PID / NFTA_GEN_PROC_NAME; 0 / NULL when absent). */
  uint32_t genid;
  uint32_t proc_pid;
  const char* proc_name;
} ngnft_change;
typedef void (*ngnft_change_cb)(void* ctx, const ngnft_change* change);

/* Reads every pending message without blocking. Returns 0 when drained, -ENOBUFS when the
 * kernel dropped messages (re-read everything), another -errno on failure. */
int ngnft_monitor_drain(int fd, ngnft_change_cb cb, void* ctx);

/* Parses one buffer of netlink messages (pure; for tests). Returns messages seen or -EINVAL. */
int ngnft_parse(const void* buf, size_t len, ngnft_change_cb cb, void* ctx);

/* Builds a notification message like the kernel sends (for tests): returns its length.
 * family: 4, 6, anything else inet; the _nfproto form takes the raw NFPROTO_* family. */
size_t ngnft_build_test_message(void* buf, size_t cap, int msg, int family, const char* table);
size_t ngnft_build_test_message_nfproto(void* buf, size_t cap, int msg, int nfproto,
                                        const char* table);
/* NFT_MSG_NEWGEN as the kernel sends it at the end of a transaction (proc_name may be NULL). */
size_t ngnft_build_test_gen_message(void* buf, size_t cap, uint32_t genid, uint32_t proc_pid,
                                    const char* proc_name);

#ifdef __cplusplus
}
#endif

#endif
