#include "netfilter/nft/nft_netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netfilter/nft/nft_sock.h"

int ngnft_open(ngnft_sock** out) {
  struct mnl_socket* nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (!nl) return -errno;
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    int err = errno;
    mnl_socket_close(nl);
    return -err;
  }
  ngnft_sock* s = calloc(1, sizeof(*s));
  if (!s) {
    mnl_socket_close(nl);
    return -ENOMEM;
  }
  s->nl = nl;
  s->portid = mnl_socket_get_portid(nl);
  s->seq = (unsigned int)time(NULL);
  *out = s;
  return 0;
}

void ngnft_close(ngnft_sock* s) {
  if (!s) return;
  mnl_socket_close(s->nl);
  free(s);
}

struct gen_result {
  uint32_t id;
  int found;
};

static int gen_attr_cb(const struct nlattr* attr, void* data) {
  struct gen_result* r = data;
  if (mnl_attr_get_type(attr) == NFTA_GEN_ID && mnl_attr_validate(attr, MNL_TYPE_U32) >= 0) {
    r->id = ntohl(mnl_attr_get_u32(attr));
    r->found = 1;
  }
  return MNL_CB_OK;
}

static int gen_cb(const struct nlmsghdr* nlh, void* data) {
  mnl_attr_parse(nlh, sizeof(struct nfgenmsg), gen_attr_cb, data);
  return MNL_CB_OK;
}

int ngnft_get_genid(ngnft_sock* s, uint32_t* genid) {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  nlh->nlmsg_seq = ++s->seq;
  struct nfgenmsg* nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
  nfg->nfgen_family = AF_UNSPEC;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  if (mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0) return -errno;
  struct gen_result r = {0, 0};
  for (int tries = 0; tries < 8 && !r.found; ++tries) {
    ssize_t n = mnl_socket_recvfrom(s->nl, buf, sizeof(buf));
    if (n < 0) return -errno;
    if (mnl_cb_run(buf, (size_t)n, s->seq, s->portid, gen_cb, &r) < 0) return -errno;
  }
  if (!r.found) return -EPROTO;
  *genid = r.id;
  return 0;
}

int ngnft_monitor_open(int rcvbuf) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) return -errno;
  struct sockaddr_nl addr;
  memset(&addr, 0, sizeof(addr));
  addr.nl_family = AF_NETLINK;
  if (bind(fd, (struct sockaddr*)&addr, sizeof(addr)) < 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  int group = NFNLGRP_NFTABLES;
  if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  }
  return fd;
}

void ngnft_monitor_close(int fd) {
  if (fd >= 0) close(fd);
}

int ngnft_monitor_listen(int fd, int on) {
  int group = NFNLGRP_NFTABLES;
  const int opt = on ? NETLINK_ADD_MEMBERSHIP : NETLINK_DROP_MEMBERSHIP;
  return setsockopt(fd, SOL_NETLINK, opt, &group, sizeof(group)) < 0 ? -errno : 0;
}

struct parse_ctx {
  ngnft_change_cb cb;
  void* ctx;
  int count;
};

static int table_attr_cb(const struct nlattr* attr, void* data) {
  /* Attribute 1 names the table in table, chain, rule, set, object and flowtable messages. */
  if (mnl_attr_get_type(attr) == 1 && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0) {
    ((ngnft_change*)data)->table = mnl_attr_get_str(attr);
  }
  return MNL_CB_OK;
}

static int gen_msg_attr_cb(const struct nlattr* attr, void* data) {
  ngnft_change* c = data;
  switch (mnl_attr_get_type(attr)) {
    case NFTA_GEN_ID:
      if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0) c->genid = ntohl(mnl_attr_get_u32(attr));
      break;
    case NFTA_GEN_PROC_PID:
      if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0) c->proc_pid = ntohl(mnl_attr_get_u32(attr));
      break;
    case NFTA_GEN_PROC_NAME:
      if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0) c->proc_name = mnl_attr_get_str(attr);
      break;
    default:
      break;
  }
  return MNL_CB_OK;
}

static int msg_cb(const struct nlmsghdr* nlh, void* data) {
  struct parse_ctx* p = data;
  if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES) return MNL_CB_OK;
  if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nfgenmsg))) return MNL_CB_OK;
  const int msg = nlh->nlmsg_type & 0xff;
  const struct nfgenmsg* nfg = mnl_nlmsg_get_payload(nlh);
  const int family = nfg->nfgen_family == NFPROTO_IPV4   ? 4
                     : nfg->nfgen_family == NFPROTO_IPV6 ? 6
                                                         : 0;
  ngnft_change c;
  memset(&c, 0, sizeof(c));
  c.msg = msg;
  c.family = family;
  c.nfproto = nfg->nfgen_family;
  if (msg == NFT_MSG_NEWGEN) {
    mnl_attr_parse(nlh, sizeof(struct nfgenmsg), gen_msg_attr_cb, &c);
  } else {
    mnl_attr_parse(nlh, sizeof(struct nfgenmsg), table_attr_cb, &c);
  }
  p->count++;
  p->cb(p->ctx, &c);
  return MNL_CB_OK;
}

int ngnft_parse(const void* buf, size_t len, ngnft_change_cb cb, void* ctx) {
  struct parse_ctx p = {cb, ctx, 0};
  /* Our own walk with unsigned bounds: mnl_cb_run trusts nlmsg_len as a signed int and runs
   * off the buffer on a corrupt header (found by the fuzzer). */
  const unsigned char* at = buf;
  while (len >= sizeof(struct nlmsghdr)) {
    const struct nlmsghdr* nlh = (const struct nlmsghdr*)at;
    if (nlh->nlmsg_len < sizeof(struct nlmsghdr) || nlh->nlmsg_len > len) {
      return p.count > 0 ? p.count : -EINVAL;
    }
    if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_OVERRUN) return -EINVAL;
    if (nlh->nlmsg_type >= NLMSG_MIN_TYPE) msg_cb(nlh, &p);
    const size_t step = MNL_ALIGN(nlh->nlmsg_len);
    if (step >= len) break;
    at += step;
    len -= step;
  }
  return p.count;
}

int ngnft_monitor_drain(int fd, ngnft_change_cb cb, void* ctx) {
  static __thread char buf[1 << 16];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) return 0;
    (void)ngnft_parse(buf, (size_t)n, cb, ctx);
  }
}

/* A notification's header as the kernel sends it to the monitor group (no request flags). */
static struct nlmsghdr* put_notification(void* buf, int msg, int nfproto, struct nfgenmsg** nfg) {
  struct nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | msg;
  nlh->nlmsg_flags = 0;
  *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(**nfg));
  (*nfg)->nfgen_family = (uint8_t)nfproto;
  (*nfg)->version = NFNETLINK_V0;
  return nlh;
}

size_t ngnft_build_test_message_nfproto(void* buf, size_t cap, int msg, int nfproto,
                                        const char* table) {
  if (cap < (size_t)MNL_SOCKET_BUFFER_SIZE) return 0;
  struct nfgenmsg* nfg;
  struct nlmsghdr* nlh = put_notification(buf, msg, nfproto, &nfg);
  if (table) mnl_attr_put_strz(nlh, 1, table);
  return nlh->nlmsg_len;
}

size_t ngnft_build_test_message(void* buf, size_t cap, int msg, int family, const char* table) {
  const int nfproto = family == 4 ? NFPROTO_IPV4 : family == 6 ? NFPROTO_IPV6 : NFPROTO_INET;
  return ngnft_build_test_message_nfproto(buf, cap, msg, nfproto, table);
}

size_t ngnft_build_test_gen_message(void* buf, size_t cap, uint32_t genid, uint32_t proc_pid,
                                    const char* proc_name) {
  if (cap < (size_t)MNL_SOCKET_BUFFER_SIZE) return 0;
  struct nfgenmsg* nfg;
  struct nlmsghdr* nlh = put_notification(buf, NFT_MSG_NEWGEN, AF_UNSPEC, &nfg);
  nfg->res_id = htons((uint16_t)(genid & 0xffff));
  mnl_attr_put_u32(nlh, NFTA_GEN_ID, htonl(genid));
  mnl_attr_put_u32(nlh, NFTA_GEN_PROC_PID, htonl(proc_pid));
  if (proc_name) mnl_attr_put_strz(nlh, NFTA_GEN_PROC_NAME, proc_name);
  return nlh->nlmsg_len;
}
