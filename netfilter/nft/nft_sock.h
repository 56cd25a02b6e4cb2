/* The request socket shared by the nftables netlink C files (private: not for C++). */
#ifndef NODEGUARD_NETFILTER_NFT_NFT_SOCK_H
#define NODEGUARD_NETFILTER_NFT_NFT_SOCK_H

#include <libmnl/libmnl.h>
#include <stddef.h>
#include <stdint.h>

#include "netfilter/nft/nft_replay_wire.h"

struct ngnft_sock {
  struct mnl_socket* nl;
  unsigned int portid;
  unsigned int seq;
};

/* An nftables request header (NFNL_SUBSYS_NFTABLES, NLM_F_REQUEST | flags) for family nfproto
 * (NFPROTO_*) at the start of buf (MNL_SOCKET_BUFFER_SIZE bytes). */
struct nlmsghdr* ngnft_put_request(char* buf, int msg, uint16_t flags, int nfproto);

/* One nftables data message of a reply buffer (DONE, errors and acks are the walker's). Returns
 * 0, or <0 to stop the walk with that error. */
typedef int (*ngnft_msg_fn)(void* ctx, const struct nlmsghdr* nlh);

/* Walks one buffer of netlink replies, each data message to on_msg. Returns 1 when the reply
 * ended (NLMSG_DONE, or the ack of a plain get), 0 when more may follow, -EINTR on
 * NLM_F_DUMP_INTR (a transaction landed mid-dump: read again), the error of an error reply,
 * -EINVAL for a malformed buffer, or on_msg's error. Defined in nft_replay_wire.c. */
int ngnft_walk_replies(const void* buf, size_t len, ngnft_msg_fn on_msg, void* ctx);

/* Parses one buffer of replies: 1 when the dump (or the ack) ended, 0 for more, <0 an error. */
typedef int (*ngnft_reply_fn)(void* ctx, const void* buf, size_t len);

/* Sends one request, then hands every reply buffer (to tap first, when set) to parse until it
 * says the dump ended or fails. Returns 0 or -errno. Defined in nft_replay_wire.c. */
int ngnft_request(ngnft_sock* s, struct nlmsghdr* nlh, ngnft_reply_fn parse, void* parse_ctx,
                  ngnft_tap_fn tap, void* tap_ctx);

#endif
