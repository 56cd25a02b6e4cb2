#include "netfilter/nft/nft_replay_wire.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <limits.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netfilter/nft/nft_sock.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* ---- attribute helpers: every read checks the payload length first ---- */

static int attr_be32(const struct nlattr* a, uint32_t* out) {
  if (mnl_attr_get_payload_len(a) < sizeof(uint32_t)) return 0;
  uint32_t v;
  memcpy(&v, mnl_attr_get_payload(a), sizeof(v));
  *out = ntohl(v);
  return 1;
}

static int attr_be64(const struct nlattr* a, uint64_t* out) {
  if (mnl_attr_get_payload_len(a) < sizeof(uint64_t)) return 0;
  uint64_t v;
  memcpy(&v, mnl_attr_get_payload(a), sizeof(v));
  *out = be64toh(v);
  return 1;
}

/* A NUL-terminated string attribute, else NULL. */
static const char* attr_str(const struct nlattr* a) {
  const uint16_t n = mnl_attr_get_payload_len(a);
  if (n == 0) return NULL;
  const char* s = mnl_attr_get_payload(a);
  return memchr(s, '\0', n) ? s : NULL;
}

static int family_of(uint8_t nfproto) {
  return nfproto == NFPROTO_IPV4 ? 4 : nfproto == NFPROTO_IPV6 ? 6 : 0;
}

static uint8_t nfproto_of(int family) {
  return family == 6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
}

/* Appends one attribute (header and payload) to out, padded to 4 bytes. */
static size_t copy_attr(unsigned char* out, const struct nlattr* a) {
  memcpy(out, a, a->nla_len);
  const size_t padded = MNL_ALIGN(a->nla_len);
  memset(out + a->nla_len, 0, padded - a->nla_len);
  return padded;
}

/* 1 when [p, p+len) is exactly a run of attributes whose types are allowed (mask of 1 << type). */
static int attrs_valid(const void* p, size_t len, unsigned int allowed) {
  if (!p && len) return 0;
  if (len % 4 != 0) return 0;
  const unsigned char* at = p;
  while (len > 0) {
    if (len < sizeof(struct nlattr)) return 0;
    const struct nlattr* a = (const struct nlattr*)at;
    if (a->nla_len < sizeof(struct nlattr) || a->nla_len > len) return 0;
    const uint16_t type = a->nla_type & NLA_TYPE_MASK;
    if (type >= 32 || !(allowed & (1u << type))) return 0;
    const size_t step = MNL_ALIGN(a->nla_len);
    if (step > len) return 0;
    at += step;
    len -= step;
  }
  return 1;
}

int ngnft_rule_attrs_valid(const void* attrs, size_t len) {
  return attrs_valid(
      attrs, len,
      (1u << NFTA_RULE_EXPRESSIONS) | (1u << NFTA_RULE_USERDATA) | (1u << NFTA_RULE_COMPAT));
}

int ngnft_chain_def_valid(const void* def, size_t len) {
  return attrs_valid(def, len, (1u << NFTA_CHAIN_HOOK) | (1u << NFTA_CHAIN_TYPE));
}

int ngnft_table_def_valid(const void* def, size_t len) {
  return attrs_valid(def, len, 1u << NFTA_TABLE_USERDATA);
}

int ngnft_rule_attrs_summary(const void* attrs, size_t len, ngnft_rule_summary* out) {
  memset(out, 0, sizeof(*out));
  if (!ngnft_rule_attrs_valid(attrs, len)) return -EINVAL;
  const unsigned char* at = attrs;
  while (len >= sizeof(struct nlattr)) {
    const struct nlattr* top = (const struct nlattr*)at;
    if (mnl_attr_get_type(top) == NFTA_RULE_EXPRESSIONS) {
      const struct nlattr* elem;
      mnl_attr_for_each_nested(elem, top) {
        out->expressions++;
        const struct nlattr* name = NULL;
        const struct nlattr* data = NULL;
        const struct nlattr* a;
        mnl_attr_for_each_nested(a, elem) {
          if (mnl_attr_get_type(a) == NFTA_EXPR_NAME) name = a;
          if (mnl_attr_get_type(a) == NFTA_EXPR_DATA) data = a;
        }
        const char* n = name ? attr_str(name) : NULL;
        if (!n || !data || strcmp(n, "counter") != 0) continue;
        mnl_attr_for_each_nested(a, data) {
          uint64_t v = 0;
          if (mnl_attr_get_type(a) == NFTA_COUNTER_PACKETS && attr_be64(a, &v)) {
            out->counter_packets += v;
          }
          if (mnl_attr_get_type(a) == NFTA_COUNTER_BYTES && attr_be64(a, &v)) {
            out->counter_bytes += v;
          }
        }
      }
    } else if (mnl_attr_get_type(top) == NFTA_RULE_COMPAT) {
      out->has_compat = 1;
      const struct nlattr* a;
      mnl_attr_for_each_nested(a, top) {
        if (mnl_attr_get_type(a) == NFTA_RULE_COMPAT_PROTO) attr_be32(a, &out->compat_proto);
        if (mnl_attr_get_type(a) == NFTA_RULE_COMPAT_FLAGS) attr_be32(a, &out->compat_flags);
      }
    }
    const size_t step = MNL_ALIGN(top->nla_len);
    at += step;
    len -= step;
  }
  return 0;
}

/* ---- dump parsing ---- */

/* What one pass over a rule's expressions found. */
struct rule_scan {
  int family;
  int pending_reg; /* register the last expression loaded the L4 protocol into, or -1 */
  int proto_found;
  uint8_t proto;
  int proto_inv;
  int has_xt;
  int replayable;
  int has_verdict;
  int32_t verdict;
  const char* verdict_chain;
  uint64_t packets;
};

static void scan_counter(struct nlattr* data, uint64_t* packets) {
  struct nlattr* a;
  mnl_attr_for_each_nested(a, data) {
    const uint16_t t = mnl_attr_get_type(a);
    if ((t == NFTA_COUNTER_BYTES || t == NFTA_COUNTER_PACKETS) &&
        mnl_attr_get_payload_len(a) >= sizeof(uint64_t)) {
      uint64_t v = 0;
      if (t == NFTA_COUNTER_PACKETS && attr_be64(a, &v)) *packets += v;
      memset(mnl_attr_get_payload(a), 0, sizeof(uint64_t));
    }
  }
}

static void scan_immediate(const struct nlattr* data, struct rule_scan* sc) {
  uint32_t dreg = UINT32_MAX;
  const struct nlattr* value = NULL;
  const struct nlattr* a;
  mnl_attr_for_each_nested(a, data) {
    if (mnl_attr_get_type(a) == NFTA_IMMEDIATE_DREG) attr_be32(a, &dreg);
    if (mnl_attr_get_type(a) == NFTA_IMMEDIATE_DATA) value = a;
  }
  if (dreg != NFT_REG_VERDICT || !value) return;
  const struct nlattr* verdict = NULL;
  mnl_attr_for_each_nested(a, value) {
    if (mnl_attr_get_type(a) == NFTA_DATA_VERDICT) verdict = a;
  }
  if (!verdict) return;
  uint32_t code = 0;
  int have_code = 0;
  const char* chain = NULL;
  mnl_attr_for_each_nested(a, verdict) {
    if (mnl_attr_get_type(a) == NFTA_VERDICT_CODE) have_code = attr_be32(a, &code);
    if (mnl_attr_get_type(a) == NFTA_VERDICT_CHAIN) chain = attr_str(a);
  }
  if (!have_code) return;
  sc->has_verdict = 1;
  sc->verdict = (int32_t)code;
  sc->verdict_chain = (sc->verdict == NFT_JUMP || sc->verdict == NFT_GOTO) ? chain : NULL;
}

/* meta l4proto, or the IPv4 protocol / IPv6 next header byte: the register it loads into. */
static int scan_proto_load(const char* name, const struct nlattr* data, int family) {
  uint32_t dreg = UINT32_MAX, key = UINT32_MAX, base = UINT32_MAX, offset = UINT32_MAX,
           len = UINT32_MAX;
  const struct nlattr* a;
  mnl_attr_for_each_nested(a, data) {
    const uint16_t t = mnl_attr_get_type(a);
    if (strcmp(name, "meta") == 0) {
      if (t == NFTA_META_DREG) attr_be32(a, &dreg);
      if (t == NFTA_META_KEY) attr_be32(a, &key);
    } else {
      if (t == NFTA_PAYLOAD_DREG) attr_be32(a, &dreg);
      if (t == NFTA_PAYLOAD_BASE) attr_be32(a, &base);
      if (t == NFTA_PAYLOAD_OFFSET) attr_be32(a, &offset);
      if (t == NFTA_PAYLOAD_LEN) attr_be32(a, &len);
    }
  }
  if (dreg == UINT32_MAX || dreg > INT_MAX) return -1;
  if (strcmp(name, "meta") == 0) return key == NFT_META_L4PROTO ? (int)dreg : -1;
  const uint32_t want = family == 6 ? 6 : 9; /* ip6 nexthdr / ip protocol */
  return base == NFT_PAYLOAD_NETWORK_HEADER && offset == want && len == 1 ? (int)dreg : -1;
}

static void scan_cmp(const struct nlattr* data, int reg, struct rule_scan* sc) {
  uint32_t sreg = UINT32_MAX, op = UINT32_MAX;
  const struct nlattr* value = NULL;
  const struct nlattr* a;
  mnl_attr_for_each_nested(a, data) {
    const uint16_t t = mnl_attr_get_type(a);
    if (t == NFTA_CMP_SREG) attr_be32(a, &sreg);
    if (t == NFTA_CMP_OP) attr_be32(a, &op);
    if (t == NFTA_CMP_DATA) value = a;
  }
  if ((int64_t)sreg != reg || (op != NFT_CMP_EQ && op != NFT_CMP_NEQ) || !value) return;
  mnl_attr_for_each_nested(a, value) {
    if (mnl_attr_get_type(a) == NFTA_DATA_VALUE && mnl_attr_get_payload_len(a) == 1) {
      sc->proto = *(const uint8_t*)mnl_attr_get_payload(a);
      sc->proto_inv = op == NFT_CMP_NEQ;
      sc->proto_found = 1;
    }
  }
}

static void scan_expr(struct nlattr* elem, struct rule_scan* sc) {
  const struct nlattr* name = NULL;
  struct nlattr* data = NULL;
  struct nlattr* a;
  mnl_attr_for_each_nested(a, elem) {
    if (mnl_attr_get_type(a) == NFTA_EXPR_NAME) name = a;
    if (mnl_attr_get_type(a) == NFTA_EXPR_DATA) data = a;
  }
  const char* n = name ? attr_str(name) : NULL;
  const int pending = sc->pending_reg;
  sc->pending_reg = -1;
  if (!n) {
    sc->replayable = 0;
    return;
  }
  /* Expressions that point at other objects (sets, named objects, flowtables): replaying one
   * would need those objects too. iptables-nft does not emit them for iptables rules. */
  static const char* const kRefs[] = {"lookup", "dynset", "objref", "flow_offload", NULL};
  for (int i = 0; kRefs[i]; ++i) {
    if (strcmp(n, kRefs[i]) == 0) sc->replayable = 0;
  }
  if (strcmp(n, "match") == 0 || strcmp(n, "target") == 0) sc->has_xt = 1;
  if (!data) return;
  if (strcmp(n, "counter") == 0) {
    scan_counter(data, &sc->packets);
  } else if (strcmp(n, "immediate") == 0) {
    scan_immediate(data, sc);
  } else if (strcmp(n, "meta") == 0 || strcmp(n, "payload") == 0) {
    if (!sc->proto_found) sc->pending_reg = scan_proto_load(n, data, sc->family);
  } else if (strcmp(n, "cmp") == 0 && pending >= 0 && !sc->proto_found) {
    scan_cmp(data, pending, sc);
  }
}

static void parse_table(const struct nlmsghdr* nlh, int family, const ngnft_dump_cb* cb,
                        void* ctx) {
  const struct nlattr* name = NULL;
  const struct nlattr* udata = NULL;
  uint32_t flags = 0;
  const struct nlattr* a;
  mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
    const uint16_t t = mnl_attr_get_type(a);
    if (t == NFTA_TABLE_NAME) name = a;
    if (t == NFTA_TABLE_FLAGS) attr_be32(a, &flags);
    if (t == NFTA_TABLE_USERDATA) udata = a;
  }
  const char* n = name ? attr_str(name) : NULL;
  if (!n || !cb->table) return;
  unsigned char* def = NULL;
  size_t def_len = 0;
  if (udata) {
    def = malloc(MNL_ALIGN(udata->nla_len));
    if (!def) return;
    def_len = copy_attr(def, udata);
  }
  ngnft_table_info info = {family, n, flags, def, def_len};
  cb->table(ctx, &info);
  free(def);
}

static void parse_chain(const struct nlmsghdr* nlh, int family, const ngnft_dump_cb* cb,
                        void* ctx) {
  const struct nlattr *table = NULL, *name = NULL, *hook = NULL, *type = NULL;
  uint32_t policy = UINT32_MAX;
  const struct nlattr* a;
  mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
    switch (mnl_attr_get_type(a)) {
      case NFTA_CHAIN_TABLE:
        table = a;
        break;
      case NFTA_CHAIN_NAME:
        name = a;
        break;
      case NFTA_CHAIN_HOOK:
        hook = a;
        break;
      case NFTA_CHAIN_TYPE:
        type = a;
        break;
      case NFTA_CHAIN_POLICY:
        attr_be32(a, &policy);
        break;
      default:
        break;
    }
  }
  const char* t = table ? attr_str(table) : NULL;
  const char* n = name ? attr_str(name) : NULL;
  if (!t || !n || !cb->chain) return;
  unsigned char* def = NULL;
  size_t def_len = 0;
  if (hook) {
    def = malloc(MNL_ALIGN(hook->nla_len) + (type ? MNL_ALIGN(type->nla_len) : 0));
    if (!def) return;
    def_len = copy_attr(def, hook);
    if (type) def_len += copy_attr(def + def_len, type);
  }
  ngnft_chain_info info = {
      family, t, n, hook != NULL, hook && policy <= NF_ACCEPT ? (int)policy : -1, def, def_len};
  cb->chain(ctx, &info);
  free(def);
}

static void parse_rule(const struct nlmsghdr* nlh, int family, const ngnft_dump_cb* cb, void* ctx) {
  const struct nlattr *table = NULL, *chain = NULL, *exprs = NULL, *udata = NULL;
  uint64_t handle = 0;
  const struct nlattr* a;
  mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
    switch (mnl_attr_get_type(a)) {
      case NFTA_RULE_TABLE:
        table = a;
        break;
      case NFTA_RULE_CHAIN:
        chain = a;
        break;
      case NFTA_RULE_HANDLE:
        attr_be64(a, &handle);
        break;
      case NFTA_RULE_EXPRESSIONS:
        exprs = a;
        break;
      case NFTA_RULE_USERDATA:
        udata = a;
        break;
      default:
        break;
    }
  }
  const char* t = table ? attr_str(table) : NULL;
  const char* c = chain ? attr_str(chain) : NULL;
  if (!t || !c || !cb->rule) return;
  /* Room for the expressions, the userdata and a rebuilt NFTA_RULE_COMPAT (20 bytes). */
  const size_t cap =
      (exprs ? MNL_ALIGN(exprs->nla_len) : 4) + (udata ? MNL_ALIGN(udata->nla_len) : 0) + 32;
  unsigned char* out = malloc(cap);
  if (!out) return;
  struct rule_scan sc = {0};
  sc.family = family;
  sc.pending_reg = -1;
  sc.replayable = exprs != NULL;
  size_t len = 0;
  if (exprs) {
    len = copy_attr(out, exprs);
    struct nlattr* copy = (struct nlattr*)out;
    struct nlattr* elem;
    mnl_attr_for_each_nested(elem, copy) {
      if (mnl_attr_get_type(elem) == NFTA_LIST_ELEM) {
        scan_expr(elem, &sc);
      } else {
        sc.replayable = 0;
      }
    }
  }
  if (udata) len += copy_attr(out + len, udata);
  if (sc.proto_found && sc.has_xt) {
    struct nlattr* nest = (struct nlattr*)(out + len);
    nest->nla_type = NFTA_RULE_COMPAT;
    nest->nla_len = sizeof(struct nlattr);
    struct nlattr* p = (struct nlattr*)(out + len + nest->nla_len);
    p->nla_type = NFTA_RULE_COMPAT_PROTO;
    p->nla_len = sizeof(struct nlattr) + sizeof(uint32_t);
    const uint32_t proto = htonl(sc.proto);
    memcpy(p + 1, &proto, sizeof(proto));
    nest->nla_len += p->nla_len;
    struct nlattr* f = (struct nlattr*)(out + len + nest->nla_len);
    f->nla_type = NFTA_RULE_COMPAT_FLAGS;
    f->nla_len = sizeof(struct nlattr) + sizeof(uint32_t);
    const uint32_t flags = htonl(sc.proto_inv ? NFT_RULE_COMPAT_F_INV : 0);
    memcpy(f + 1, &flags, sizeof(flags));
    nest->nla_len += f->nla_len;
    len += nest->nla_len;
  }
  ngnft_rule_info info;
  memset(&info, 0, sizeof(info));
  info.family = family;
  info.table = t;
  info.chain = c;
  info.handle = handle;
  info.attrs = out;
  info.attrs_len = len;
  info.has_verdict = sc.has_verdict;
  info.verdict = sc.verdict;
  info.verdict_chain = sc.verdict_chain;
  info.replayable = sc.replayable;
  info.packets = sc.packets;
  cb->rule(ctx, &info);
  free(out);
}

int ngnft_walk_replies(const void* buf, size_t len, ngnft_msg_fn on_msg, void* ctx) {
  const unsigned char* at = buf;
  while (len >= sizeof(struct nlmsghdr)) {
    const struct nlmsghdr* nlh = (const struct nlmsghdr*)at;
    /* Aligned length inside the buffer too: attribute walks run to the aligned tail. */
    if (nlh->nlmsg_len < sizeof(struct nlmsghdr) || nlh->nlmsg_len > len ||
        MNL_ALIGN(nlh->nlmsg_len) > len) {
      return -EINVAL;
    }
    if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) return -EINTR;
    if (nlh->nlmsg_type == NLMSG_DONE) return 1;
    if (nlh->nlmsg_type == NLMSG_ERROR) {
      if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nlmsgerr))) return -EINVAL;
      const struct nlmsgerr* e = mnl_nlmsg_get_payload(nlh);
      if (e->error == 0) return 1; /* the ack of a plain get */
      return e->error < 0 && e->error > -4096 ? e->error : -EPROTO;
    }
    const int rc = on_msg(ctx, nlh);
    if (rc < 0) return rc;
    const size_t step = MNL_ALIGN(nlh->nlmsg_len);
    if (step >= len) break;
    at += step;
    len -= step;
  }
  return 0;
}

struct dump_walk {
  const ngnft_dump_cb* cb;
  void* ctx;
};

static int dump_msg(void* ctx, const struct nlmsghdr* nlh) {
  const struct dump_walk* w = ctx;
  if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES ||
      nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nfgenmsg))) {
    return 0;
  }
  const struct nfgenmsg* g = mnl_nlmsg_get_payload(nlh);
  const int family = family_of(g->nfgen_family);
  switch (nlh->nlmsg_type & 0xff) {
    case NFT_MSG_NEWTABLE:
      parse_table(nlh, family, w->cb, w->ctx);
      break;
    case NFT_MSG_NEWCHAIN:
      parse_chain(nlh, family, w->cb, w->ctx);
      break;
    case NFT_MSG_NEWRULE:
      parse_rule(nlh, family, w->cb, w->ctx);
      break;
    default:
      break;
  }
  return 0;
}

int ngnft_parse_dump(const void* buf, size_t len, const ngnft_dump_cb* cb, void* ctx) {
  struct dump_walk w = {cb, ctx};
  return ngnft_walk_replies(buf, len, dump_msg, &w);
}

/* Whether a read holds the end of a reply (NLMSG_DONE or an error/ack). */
static int holds_end(const void* buf, size_t len) {
  const unsigned char* at = buf;
  while (len >= sizeof(struct nlmsghdr)) {
    const struct nlmsghdr* nlh = (const struct nlmsghdr*)at;
    if (nlh->nlmsg_len < sizeof(struct nlmsghdr) || MNL_ALIGN(nlh->nlmsg_len) > len) return 1;
    if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR) return 1;
    at += MNL_ALIGN(nlh->nlmsg_len);
    len -= MNL_ALIGN(nlh->nlmsg_len);
  }
  return 0;
}

int ngnft_request(ngnft_sock* s, struct nlmsghdr* nlh, ngnft_reply_fn parse, void* parse_ctx,
                  ngnft_tap_fn tap, void* tap_ctx) {
  const int dump = (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  nlh->nlmsg_seq = ++s->seq;
  if (mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0) return -errno;
  const size_t cap = 1 << 17;
  char* buf = malloc(cap);
  if (!buf) return -ENOMEM;
  int rc = 0;
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(s->nl, buf, cap);
    if (n < 0) {
      rc = -errno;
      break;
    }
    if (tap) tap(tap_ctx, buf, (size_t)n);
    rc = parse(parse_ctx, buf, (size_t)n);
    if (rc == 0) continue;
    /* A dump given up mid-way (NLM_F_DUMP_INTR: a transaction landed) is still running on the
     * socket: the kernel refuses the next dump with EBUSY until the rest is read. */
    if (rc < 0 && dump && !holds_end(buf, (size_t)n)) {
      ssize_t m;
      while ((m = mnl_socket_recvfrom(s->nl, buf, cap)) > 0 && !holds_end(buf, (size_t)m)) {
      }
    }
    break;
  }
  free(buf);
  return rc < 0 ? rc : 0;
}

struct nlmsghdr* ngnft_put_request(char* buf, int msg, uint16_t flags, int nfproto) {
  struct nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | msg;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  struct nfgenmsg* g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
  g->nfgen_family = (uint8_t)nfproto;
  g->version = NFNETLINK_V0;
  g->res_id = 0;
  return nlh;
}

struct dump_parse {
  const ngnft_dump_cb* cb;
  void* ctx;
};

static int parse_dump_reply(void* ctx, const void* buf, size_t len) {
  const struct dump_parse* p = ctx;
  return ngnft_parse_dump(buf, len, p->cb, p->ctx);
}

/* One request, then replies until the dump (or the ack) ends. */
static int request(ngnft_sock* s, struct nlmsghdr* nlh, const ngnft_dump_cb* cb, void* ctx,
                   ngnft_tap_fn tap, void* tap_ctx) {
  struct dump_parse p = {cb, ctx};
  return ngnft_request(s, nlh, parse_dump_reply, &p, tap, tap_ctx);
}

static struct nlmsghdr* put_request(char* buf, uint16_t msg, uint16_t flags, int family) {
  return ngnft_put_request(buf, msg, flags, nfproto_of(family));
}

int ngnft_dump_table(ngnft_sock* s, int family, const char* table, const ngnft_dump_cb* cb,
                     void* ctx) {
  return ngnft_dump_table_tap(s, family, table, cb, ctx, NULL, NULL);
}

int ngnft_dump_table_tap(ngnft_sock* s, int family, const char* table, const ngnft_dump_cb* cb,
                         void* ctx, ngnft_tap_fn tap, void* tap_ctx) {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  if (strlen(table) >= NFT_TABLE_MAXNAMELEN) return -EINVAL;
  struct nlmsghdr* nlh = put_request(buf, NFT_MSG_GETTABLE, NLM_F_ACK, family);
  mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, table);
  int rc = request(s, nlh, cb, ctx, tap, tap_ctx);
  if (rc < 0) return rc;
  nlh = put_request(buf, NFT_MSG_GETCHAIN, NLM_F_DUMP, family);
  rc = request(s, nlh, cb, ctx, tap, tap_ctx);
  if (rc < 0) return rc;
  nlh = put_request(buf, NFT_MSG_GETRULE, NLM_F_DUMP, family);
  mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, table);
  return request(s, nlh, cb, ctx, tap, tap_ctx);
}

/* ---- batches ---- */

struct ngnft_batch {
  unsigned char* buf;
  size_t len;
  size_t cap;
  uint8_t nfproto;
  uint32_t begin_seq;
  uint32_t seq;      /* of the next message */
  uint32_t last_seq; /* of the last message before END, once closed */
  size_t last;       /* offset of the last message after BEGIN */
  size_t messages;
  int closed;
};

static int ensure(ngnft_batch* b, size_t more) {
  if (b->len + more <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 1 << 16;
  while (cap < b->len + more) cap *= 2;
  unsigned char* p = realloc(b->buf, cap);
  if (!p) return -ENOMEM;
  b->buf = p;
  b->cap = cap;
  return 0;
}

/* A message at the end of the batch with room for `room` bytes of attributes. */
static struct nlmsghdr* put_msg(ngnft_batch* b, uint16_t type, uint16_t flags, size_t room) {
  if (b->closed) return NULL;
  const size_t size = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)) + room;
  if (ensure(b, size) < 0) return NULL;
  /* libmnl leaves attribute padding as it finds it: no stray heap bytes to the kernel. */
  memset(b->buf + b->len, 0, size);
  struct nlmsghdr* nlh = mnl_nlmsg_put_header(b->buf + b->len);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  nlh->nlmsg_seq = b->seq++;
  struct nfgenmsg* g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
  g->nfgen_family = b->nfproto;
  g->version = NFNETLINK_V0;
  g->res_id = 0;
  return nlh;
}

static void done_msg(ngnft_batch* b, struct nlmsghdr* nlh) {
  b->last = (size_t)((unsigned char*)nlh - b->buf);
  b->len += MNL_ALIGN(nlh->nlmsg_len);
  b->messages++;
}

static void put_raw(struct nlmsghdr* nlh, const void* attrs, size_t len) {
  if (len == 0) return;
  memcpy(mnl_nlmsg_get_payload_tail(nlh), attrs, len);
  nlh->nlmsg_len += MNL_ALIGN(len);
}

static size_t name_room(const char* s) {
  return MNL_ATTR_HDRLEN + MNL_ALIGN(strlen(s) + 1);
}

ngnft_batch* ngnft_batch_begin(int family, uint32_t genid, uint32_t seq) {
  ngnft_batch* b = calloc(1, sizeof(*b));
  if (!b) return NULL;
  b->nfproto = nfproto_of(family);
  b->begin_seq = seq;
  b->seq = seq;
  struct nlmsghdr* nlh = put_msg(b, NFNL_MSG_BATCH_BEGIN, 0, 16);
  if (!nlh) {
    ngnft_batch_free(b);
    return NULL;
  }
  struct nfgenmsg* g = mnl_nlmsg_get_payload(nlh);
  g->nfgen_family = AF_UNSPEC;
  g->res_id = htons(NFNL_SUBSYS_NFTABLES);
  if (genid) mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
  b->len += MNL_ALIGN(nlh->nlmsg_len);
  return b;
}

ngnft_batch* ngnft_batch_begin_nfproto(uint8_t nfproto, uint32_t genid, uint32_t seq) {
  ngnft_batch* b = ngnft_batch_begin(4, genid, seq);
  if (b) b->nfproto = nfproto;
  return b;
}

int ngnft_batch_put(ngnft_batch* b, int msg, uint16_t flags, const void* attrs, size_t len) {
  if (msg < 0 || msg >= NFT_MSG_MAX || !attrs_valid(attrs, len, 0xffffffffu)) return -EINVAL;
  struct nlmsghdr* nlh = put_msg(b, (NFNL_SUBSYS_NFTABLES << 8) | msg, flags, len);
  if (!nlh) return -ENOMEM;
  put_raw(nlh, attrs, len);
  done_msg(b, nlh);
  return 0;
}

void ngnft_batch_free(ngnft_batch* b) {
  if (!b) return;
  free(b->buf);
  free(b);
}

static int name_ok(const char* s, size_t max) {
  return s && s[0] && strlen(s) < max;
}

int ngnft_batch_new_table(ngnft_batch* b, const char* table, const void* def, size_t def_len) {
  if (!name_ok(table, NFT_TABLE_MAXNAMELEN) || !ngnft_table_def_valid(def, def_len)) {
    return -EINVAL;
  }
  struct nlmsghdr* nlh = put_msg(b, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE, NLM_F_CREATE,
                                 name_room(table) + def_len);
  if (!nlh) return -ENOMEM;
  mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, table);
  put_raw(nlh, def, def_len);
  done_msg(b, nlh);
  return 0;
}

int ngnft_batch_new_chain(ngnft_batch* b, const char* table, const char* chain, const void* def,
                          size_t def_len, int policy) {
  if (!name_ok(table, NFT_TABLE_MAXNAMELEN) || !name_ok(chain, NFT_CHAIN_MAXNAMELEN) ||
      !ngnft_chain_def_valid(def, def_len) || policy > NF_ACCEPT) {
    return -EINVAL;
  }
  struct nlmsghdr* nlh = put_msg(b, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWCHAIN, NLM_F_CREATE,
                                 name_room(table) + name_room(chain) + def_len + 8);
  if (!nlh) return -ENOMEM;
  mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, table);
  mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, chain);
  put_raw(nlh, def, def_len);
  if (policy >= 0) mnl_attr_put_u32(nlh, NFTA_CHAIN_POLICY, htonl((uint32_t)policy));
  done_msg(b, nlh);
  return 0;
}

static int del_rule(ngnft_batch* b, const char* table, const char* chain, const uint64_t* handle) {
  if (!name_ok(table, NFT_TABLE_MAXNAMELEN) || !name_ok(chain, NFT_CHAIN_MAXNAMELEN)) {
    return -EINVAL;
  }
  struct nlmsghdr* nlh = put_msg(b, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELRULE, 0,
                                 name_room(table) + name_room(chain) + 12);
  if (!nlh) return -ENOMEM;
  mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, table);
  mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, chain);
  if (handle) mnl_attr_put_u64(nlh, NFTA_RULE_HANDLE, htobe64(*handle));
  done_msg(b, nlh);
  return 0;
}

int ngnft_batch_flush_chain(ngnft_batch* b, const char* table, const char* chain) {
  return del_rule(b, table, chain, NULL);
}

int ngnft_batch_del_rule(ngnft_batch* b, const char* table, const char* chain, uint64_t handle) {
  return del_rule(b, table, chain, &handle);
}

int ngnft_batch_new_rule(ngnft_batch* b, const char* table, const char* chain, const void* attrs,
                         size_t attrs_len, int where, uint64_t anchor) {
  if (!name_ok(table, NFT_TABLE_MAXNAMELEN) || !name_ok(chain, NFT_CHAIN_MAXNAMELEN) ||
      !ngnft_rule_attrs_valid(attrs, attrs_len) || attrs_len == 0 ||
      (where != NGNFT_AT_END && where != NGNFT_AT_HEAD && where != NGNFT_AFTER)) {
    return -EINVAL;
  }
  const uint16_t flags = NLM_F_CREATE | (where == NGNFT_AT_HEAD ? 0 : NLM_F_APPEND);
  struct nlmsghdr* nlh = put_msg(b, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE, flags,
                                 name_room(table) + name_room(chain) + 12 + attrs_len);
  if (!nlh) return -ENOMEM;
  mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, table);
  mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, chain);
  if (where == NGNFT_AFTER) mnl_attr_put_u64(nlh, NFTA_RULE_POSITION, htobe64(anchor));
  put_raw(nlh, attrs, attrs_len);
  done_msg(b, nlh);
  return 0;
}

int ngnft_batch_end(ngnft_batch* b) {
  if (b->closed || b->messages == 0) return -EINVAL;
  struct nlmsghdr* last = (struct nlmsghdr*)(b->buf + b->last);
  last->nlmsg_flags |= NLM_F_ACK;
  const uint32_t last_seq = last->nlmsg_seq;
  struct nlmsghdr* nlh = put_msg(b, NFNL_MSG_BATCH_END, 0, 0);
  if (!nlh) return -ENOMEM;
  struct nfgenmsg* g = mnl_nlmsg_get_payload(nlh);
  g->nfgen_family = AF_UNSPEC;
  g->res_id = htons(NFNL_SUBSYS_NFTABLES);
  b->len += MNL_ALIGN(nlh->nlmsg_len);
  b->closed = 1;
  b->last_seq = last_seq; /* the message whose ack ends the verdict */
  return 0;
}

const void* ngnft_batch_data(const ngnft_batch* b, size_t* len) {
  *len = b->len;
  return b->buf;
}

size_t ngnft_batch_messages(const ngnft_batch* b) {
  return b->messages;
}

void ngnft_acks_init(ngnft_acks* a, const ngnft_batch* b) {
  memset(a, 0, sizeof(*a));
  a->begin_seq = b->begin_seq;
  a->last_seq = b->closed ? b->last_seq : b->begin_seq;
  a->failed_index = -1;
}

int ngnft_parse_acks(const void* buf, size_t len, ngnft_acks* a) {
  const unsigned char* at = buf;
  while (len >= sizeof(struct nlmsghdr)) {
    const struct nlmsghdr* nlh = (const struct nlmsghdr*)at;
    if (nlh->nlmsg_len < sizeof(struct nlmsghdr) || nlh->nlmsg_len > len ||
        MNL_ALIGN(nlh->nlmsg_len) > len) {
      return -EINVAL;
    }
    if (nlh->nlmsg_type == NLMSG_ERROR) {
      if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nlmsgerr))) return -EINVAL;
      const struct nlmsgerr* e = mnl_nlmsg_get_payload(nlh);
      const uint32_t seq = e->msg.nlmsg_seq;
      const int err = e->error <= 0 && e->error > -4096 ? e->error : -EPROTO;
      if (err != 0 && a->error == 0) {
        a->error = err;
        a->failed_index = seq == a->begin_seq ? -1 : (int)(seq - a->begin_seq - 1);
      }
      if (seq == a->last_seq || (seq == a->begin_seq && err != 0)) a->done = 1;
    }
    const size_t step = MNL_ALIGN(nlh->nlmsg_len);
    if (step >= len) break;
    at += step;
    len -= step;
  }
  return 0;
}

int ngnft_batch_send(ngnft_sock* s, const ngnft_batch* b, int timeout_ms, int* failed_index) {
  *failed_index = -1;
  if (!b->closed) return -EINVAL;
  const int fd = mnl_socket_get_fd(s->nl);
  int one = 1;
  (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
  /* The whole batch is one sendmsg (one transaction): the send buffer must hold it. */
  const size_t want = b->len + (1 << 16);
  int size = want > INT_MAX ? INT_MAX : (int)want;
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  }
  const ssize_t sent = mnl_socket_sendto(s->nl, b->buf, b->len);
  if (sent < 0) return -errno;
  if ((size_t)sent != b->len) return -EMSGSIZE;
  ngnft_acks acks;
  ngnft_acks_init(&acks, b);
  char buf[1 << 14];
  while (!acks.done) {
    struct pollfd p = {fd, POLLIN, 0};
    const int pr = poll(&p, 1, timeout_ms);
    if (pr < 0 && errno == EINTR) continue;
    if (pr < 0) return -errno;
    if (pr == 0) return -ETIMEDOUT;
    const ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return -errno; /* ENOBUFS: replies were lost */
    }
    if (ngnft_parse_acks(buf, (size_t)n, &acks) < 0) return -EPROTO;
  }
  *failed_index = acks.failed_index;
  return acks.error;
}
