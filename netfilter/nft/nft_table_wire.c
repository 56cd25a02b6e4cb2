#include "netfilter/nft/nft_table_wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "netfilter/nft/nft_sock.h"

/* ---- attribute walking over raw bytes: every step checks the length first ---- */

/* The next attribute of [*at, *at + *left), or NULL at the end or when malformed (*bad set). */
static const struct nlattr* next_attr(const unsigned char** at, size_t* left, int* bad) {
  if (*left == 0) return NULL;
  if (*left < sizeof(struct nlattr)) {
    *bad = 1;
    return NULL;
  }
  const struct nlattr* a = (const struct nlattr*)*at;
  if (a->nla_len < sizeof(struct nlattr) || a->nla_len > *left) {
    *bad = 1;
    return NULL;
  }
  size_t step = MNL_ALIGN(a->nla_len);
  if (step > *left) step = *left;
  *at += step;
  *left -= step;
  return a;
}

static uint16_t atype(const struct nlattr* a) {
  return a->nla_type & NLA_TYPE_MASK;
}
static const unsigned char* apay(const struct nlattr* a) {
  return (const unsigned char*)a + sizeof(struct nlattr);
}
static size_t alen(const struct nlattr* a) {
  return a->nla_len - sizeof(struct nlattr);
}

static const char* astr(const struct nlattr* a) {
  const size_t n = alen(a);
  if (n == 0) return NULL;
  const char* s = (const char*)apay(a);
  return memchr(s, '\0', n) ? s : NULL;
}

static int abe32(const struct nlattr* a, uint32_t* out) {
  if (alen(a) < sizeof(uint32_t)) return 0;
  uint32_t v;
  memcpy(&v, apay(a), sizeof(v));
  *out = ntohl(v);
  return 1;
}

/* ---- what each kind keeps: the attributes a create message takes ---- */

static int kind_of_msg(int msg) {
  switch (msg) {
    case NFT_MSG_NEWTABLE:
      return NGNFT_T_TABLE;
    case NFT_MSG_NEWCHAIN:
      return NGNFT_T_CHAIN;
    case NFT_MSG_NEWOBJ:
      return NGNFT_T_OBJ;
    case NFT_MSG_NEWFLOWTABLE:
      return NGNFT_T_FLOWTABLE;
    case NFT_MSG_NEWSET:
      return NGNFT_T_SET;
    case NFT_MSG_NEWSETELEM:
      return NGNFT_T_SETELEM;
    case NFT_MSG_NEWRULE:
      return NGNFT_T_RULE;
    default:
      return -1;
  }
}

static const int kMsgOfKind[NGNFT_T_KINDS] = {
    NFT_MSG_NEWTABLE, NFT_MSG_NEWCHAIN,   NFT_MSG_NEWOBJ, NFT_MSG_NEWFLOWTABLE,
    NFT_MSG_NEWSET,   NFT_MSG_NEWSETELEM, NFT_MSG_NEWRULE};

#define B(x) (1u << (x))
/* Handles, use counts, positions, ids, chain counters and padding are the kernel's: dropped. */
static const uint32_t kKeep[NGNFT_T_KINDS] = {
    B(NFTA_TABLE_NAME) | B(NFTA_TABLE_FLAGS) | B(NFTA_TABLE_USERDATA),
    B(NFTA_CHAIN_TABLE) | B(NFTA_CHAIN_NAME) | B(NFTA_CHAIN_HOOK) | B(NFTA_CHAIN_POLICY) |
        B(NFTA_CHAIN_TYPE) | B(NFTA_CHAIN_FLAGS) | B(NFTA_CHAIN_USERDATA),
    B(NFTA_OBJ_TABLE) | B(NFTA_OBJ_NAME) | B(NFTA_OBJ_TYPE) | B(NFTA_OBJ_DATA) |
        B(NFTA_OBJ_USERDATA),
    B(NFTA_FLOWTABLE_TABLE) | B(NFTA_FLOWTABLE_NAME) | B(NFTA_FLOWTABLE_HOOK) |
        B(NFTA_FLOWTABLE_FLAGS),
    B(NFTA_SET_TABLE) | B(NFTA_SET_NAME) | B(NFTA_SET_FLAGS) | B(NFTA_SET_KEY_TYPE) |
        B(NFTA_SET_KEY_LEN) | B(NFTA_SET_DATA_TYPE) | B(NFTA_SET_DATA_LEN) | B(NFTA_SET_POLICY) |
        B(NFTA_SET_DESC) | B(NFTA_SET_TIMEOUT) | B(NFTA_SET_GC_INTERVAL) | B(NFTA_SET_USERDATA) |
        B(NFTA_SET_OBJ_TYPE) | B(NFTA_SET_EXPR) | B(NFTA_SET_EXPRESSIONS),
    B(NFTA_SET_ELEM_LIST_TABLE) | B(NFTA_SET_ELEM_LIST_SET) | B(NFTA_SET_ELEM_LIST_ELEMENTS),
    B(NFTA_RULE_TABLE) | B(NFTA_RULE_CHAIN) | B(NFTA_RULE_EXPRESSIONS) | B(NFTA_RULE_USERDATA),
};
/* The attribute naming each kind's object (the set, for elements; the chain, for rules). */
static const uint16_t kNameAttr[NGNFT_T_KINDS] = {
    NFTA_TABLE_NAME, NFTA_CHAIN_NAME,        NFTA_OBJ_NAME,  NFTA_FLOWTABLE_NAME,
    NFTA_SET_NAME,   NFTA_SET_ELEM_LIST_SET, NFTA_RULE_CHAIN};

static unsigned char* put_hdr(unsigned char* out, uint16_t type, size_t payload) {
  struct nlattr* h = (struct nlattr*)out;
  h->nla_type = type;
  h->nla_len = (uint16_t)(sizeof(struct nlattr) + payload);
  return out + sizeof(struct nlattr);
}

static size_t copy_attr(unsigned char* out, const struct nlattr* a) {
  memcpy(out, a, a->nla_len);
  const size_t padded = MNL_ALIGN(a->nla_len);
  memset(out + a->nla_len, 0, padded - a->nla_len);
  return padded;
}

/* The element list without NFTA_SET_ELEM_EXPIRATION (the time left, which the kernel counts
 * down; the element's timeout stays). Returns bytes written or 0 when malformed. */
static size_t strip_elements(unsigned char* out, const struct nlattr* list) {
  unsigned char* w = out + sizeof(struct nlattr);
  const unsigned char* at = apay(list);
  size_t left = alen(list);
  int bad = 0;
  const struct nlattr* e;
  while ((e = next_attr(&at, &left, &bad))) {
    unsigned char* eh = w;
    w += sizeof(struct nlattr);
    const unsigned char* in = apay(e);
    size_t inleft = alen(e);
    const struct nlattr* a;
    while ((a = next_attr(&in, &inleft, &bad))) {
      if (atype(a) != NFTA_SET_ELEM_EXPIRATION) w += copy_attr(w, a);
    }
    const size_t elen = (size_t)(w - eh);
    if (elen > UINT16_MAX) return 0;
    put_hdr(eh, e->nla_type, elen - sizeof(struct nlattr));
  }
  const size_t total = (size_t)(w - out);
  if (bad || total > UINT16_MAX) return 0;
  put_hdr(out, list->nla_type, total - sizeof(struct nlattr));
  return total;
}

/* Copies the kept attributes of one message's payload into out (room: len + 4). Returns the
 * bytes written, or -EINVAL. *table is the table attribute (type 1 for every kind). */
static long strip(int kind, const unsigned char* at, size_t len, unsigned char* out,
                  const char** table) {
  size_t w = 0;
  int bad = 0;
  *table = NULL;
  const struct nlattr* a;
  while ((a = next_attr(&at, &len, &bad))) {
    const uint16_t t = atype(a);
    if (t == 1) *table = astr(a);
    if (t >= 32 || !(kKeep[kind] & (1u << t))) continue;
    if (kind == NGNFT_T_SETELEM && t == NFTA_SET_ELEM_LIST_ELEMENTS) {
      const size_t n = strip_elements(out + w, a);
      if (n == 0) return -EINVAL;
      w += n;
      continue;
    }
    const size_t at_w = w;
    w += copy_attr(out + w, a);
    uint32_t flags = 0;
    if (kind == NGNFT_T_TABLE && t == NFTA_TABLE_FLAGS && abe32(a, &flags)) {
      /* An owned table goes with its owner's socket: restored unowned. */
      const uint32_t keep = htonl(flags & NFT_TABLE_F_DORMANT);
      memcpy(out + at_w + sizeof(struct nlattr), &keep, sizeof(keep));
    }
  }
  return bad ? -EINVAL : (long)w;
}

static int parse_one(const struct nlmsghdr* nlh, int nfproto, const char* table, ngnft_tmsg_cb cb,
                     void* ctx, uint32_t* genid) {
  if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES ||
      nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nfgenmsg))) {
    return 0;
  }
  const int msg = nlh->nlmsg_type & 0xff;
  const unsigned char* at =
      (const unsigned char*)mnl_nlmsg_get_payload(nlh) + MNL_ALIGN(sizeof(struct nfgenmsg));
  const size_t len = nlh->nlmsg_len - MNL_NLMSG_HDRLEN - MNL_ALIGN(sizeof(struct nfgenmsg));
  if (msg == NFT_MSG_NEWGEN) {
    const unsigned char* p = at;
    size_t left = len;
    int bad = 0;
    const struct nlattr* a;
    while ((a = next_attr(&p, &left, &bad))) {
      if (atype(a) == NFTA_GEN_ID && genid) abe32(a, genid);
    }
    return bad ? -EINVAL : 0;
  }
  const int kind = kind_of_msg(msg);
  const struct nfgenmsg* g = mnl_nlmsg_get_payload(nlh);
  if (kind < 0 || g->nfgen_family != nfproto) return 0;
  unsigned char* out = malloc(len + 8);
  if (!out) return -ENOMEM;
  const char* t = NULL;
  const long n = strip(kind, at, len, out, &t);
  if (n >= 0 && t && strcmp(t, table) == 0 && cb) cb(ctx, kind, out, (size_t)n);
  free(out);
  return n < 0 ? (int)n : 0;
}

struct table_walk {
  int nfproto;
  const char* table;
  ngnft_tmsg_cb cb;
  void* ctx;
  uint32_t* genid;
};

static int table_msg(void* ctx, const struct nlmsghdr* nlh) {
  const struct table_walk* w = ctx;
  return parse_one(nlh, w->nfproto, w->table, w->cb, w->ctx, w->genid);
}

int ngnft_table_parse(const void* buf, size_t len, int nfproto, const char* table, ngnft_tmsg_cb cb,
                      void* ctx, uint32_t* genid) {
  struct table_walk w = {nfproto, table, cb, ctx, genid};
  return ngnft_walk_replies(buf, len, table_msg, &w);
}

/* ---- the dump ---- */

typedef struct dump_ctx {
  ngnft_tmsg_cb cb;
  void* ctx;
  char** sets; /* names, grown as the set dump goes (kube-proxy: one anonymous map per service) */
  size_t nsets;
  size_t cap;
  size_t max_sets;
  int too_many;
} dump_ctx;

static void free_sets(dump_ctx* d) {
  for (size_t i = 0; i < d->nsets; ++i) free(d->sets[i]);
  free(d->sets);
}

static void collect(void* p, int kind, const void* attrs, size_t len) {
  dump_ctx* d = p;
  if (kind == NGNFT_T_SET) {
    ngnft_tmsg_info info;
    if (ngnft_tmsg_describe(kind, attrs, len, &info) == 0 && info.name &&
        strlen(info.name) < NFT_SET_MAXNAMELEN) {
      if (d->nsets >= d->max_sets) {
        d->too_many = 1;
        return;
      }
      if (d->nsets == d->cap) {
        const size_t cap = d->cap ? d->cap * 2 : 64;
        char** p = realloc(d->sets, cap * sizeof(*p));
        if (!p) {
          d->too_many = 1;
          return;
        }
        d->sets = p;
        d->cap = cap;
      }
      d->sets[d->nsets] = strdup(info.name);
      if (!d->sets[d->nsets]) {
        d->too_many = 1;
        return;
      }
      d->nsets++;
    }
  }
  d->cb(d->ctx, kind, attrs, len);
}

struct table_parse {
  int nfproto;
  const char* table;
  dump_ctx* d;
  uint32_t* genid;
};

static int parse_table_reply(void* ctx, const void* buf, size_t len) {
  const struct table_parse* p = ctx;
  return ngnft_table_parse(buf, len, p->nfproto, p->table, p->d ? collect : NULL, p->d, p->genid);
}

static int request(ngnft_sock* s, struct nlmsghdr* nlh, int nfproto, const char* table, dump_ctx* d,
                   uint32_t* genid, ngnft_tap_fn tap, void* tap_ctx) {
  struct table_parse p = {nfproto, table, d, genid};
  return ngnft_request(s, nlh, parse_table_reply, &p, tap, tap_ctx);
}

static int get_gen(ngnft_sock* s, uint32_t* genid, ngnft_tap_fn tap, void* tap_ctx) {
  char buf[256];
  struct nlmsghdr* nlh = ngnft_put_request(buf, NFT_MSG_GETGEN, NLM_F_ACK, AF_UNSPEC);
  *genid = 0;
  return request(s, nlh, 0, "", NULL, genid, tap, tap_ctx);
}

/* The dumps of one table in restore order: chains, objects, flowtables, sets, elements, rules. */
static int dump_parts(ngnft_sock* s, int nfproto, const char* table, dump_ctx* d, ngnft_tap_fn tap,
                      void* tap_ctx) {
  char buf[512];
  static const int kDumps[] = {NFT_MSG_GETCHAIN, NFT_MSG_GETOBJ, NFT_MSG_GETFLOWTABLE,
                               NFT_MSG_GETSET};
  for (size_t i = 0; i < sizeof(kDumps) / sizeof(kDumps[0]); ++i) {
    struct nlmsghdr* nlh = ngnft_put_request(buf, kDumps[i], NLM_F_DUMP, nfproto);
    mnl_attr_put_strz(nlh, 1, table); /* NFTA_*_TABLE: the kernel filters by it */
    const int rc = request(s, nlh, nfproto, table, d, NULL, tap, tap_ctx);
    if (rc < 0) return rc;
  }
  if (d->too_many) return -E2BIG;
  for (size_t i = 0; i < d->nsets; ++i) {
    struct nlmsghdr* nlh = ngnft_put_request(buf, NFT_MSG_GETSETELEM, NLM_F_DUMP, nfproto);
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, d->sets[i]);
    const int rc = request(s, nlh, nfproto, table, d, NULL, tap, tap_ctx);
    if (rc < 0) return rc;
  }
  struct nlmsghdr* nlh = ngnft_put_request(buf, NFT_MSG_GETRULE, NLM_F_DUMP, nfproto);
  mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, table);
  return request(s, nlh, nfproto, table, d, NULL, tap, tap_ctx);
}

int ngnft_table_dump(ngnft_sock* s, int nfproto, const char* table, size_t max_sets,
                     ngnft_tmsg_cb cb, void* ctx, uint32_t* genid, ngnft_tap_fn tap,
                     void* tap_ctx) {
  if (!table || !table[0] || strlen(table) >= NFT_TABLE_MAXNAMELEN || !cb) return -EINVAL;
  uint32_t before = 0, after = 0;
  int rc = get_gen(s, &before, tap, tap_ctx);
  if (rc < 0) return rc;
  dump_ctx d = {cb, ctx, NULL, 0, 0, max_sets, 0};
  char buf[512];
  struct nlmsghdr* nlh = ngnft_put_request(buf, NFT_MSG_GETTABLE, NLM_F_ACK, nfproto);
  mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, table);
  rc = request(s, nlh, nfproto, table, &d, NULL, tap, tap_ctx);
  const int absent = rc == -ENOENT;
  if (rc == 0) rc = dump_parts(s, nfproto, table, &d, tap, tap_ctx);
  free_sets(&d);
  if (rc < 0 && !absent) return rc;
  rc = get_gen(s, &after, tap, tap_ctx);
  if (rc < 0) return rc;
  if (after != before) return -EINTR; /* a transaction landed in between: read again */
  *genid = before;
  return absent ? -ENOENT : 0;
}

/* ---- reading stripped messages ---- */

static uint32_t count_elements(const struct nlattr* list, int* bad) {
  uint32_t n = 0;
  const unsigned char* at = apay(list);
  size_t left = alen(list);
  while (next_attr(&at, &left, bad)) n++;
  return n;
}

int ngnft_tmsg_describe(int kind, const void* attrs, size_t len, ngnft_tmsg_info* out) {
  memset(out, 0, sizeof(*out));
  if (kind < 0 || kind >= NGNFT_T_KINDS || (!attrs && len)) return -EINVAL;
  const unsigned char* at = attrs;
  int bad = 0;
  const struct nlattr* a;
  while ((a = next_attr(&at, &len, &bad))) {
    const uint16_t t = atype(a);
    if (t == kNameAttr[kind]) {
      if (kind == NGNFT_T_RULE) {
        out->chain = astr(a);
      } else {
        out->name = astr(a);
      }
    }
    if (kind == NGNFT_T_CHAIN && t == NFTA_CHAIN_HOOK) out->base = 1;
    if (kind == NGNFT_T_SETELEM && t == NFTA_SET_ELEM_LIST_ELEMENTS) {
      out->elements += count_elements(a, &bad);
    }
    if (kind == NGNFT_T_OBJ && t == NFTA_OBJ_TYPE) abe32(a, &out->obj_type);
    if (kind == NGNFT_T_SET && t == NFTA_SET_FLAGS) abe32(a, &out->set_flags);
  }
  return bad ? -EINVAL : 0;
}

int ngnft_setelem_each(const void* attrs, size_t len, ngnft_elem_cb cb, void* ctx) {
  if (!attrs && len) return -EINVAL;
  const unsigned char* at = attrs;
  int bad = 0, n = 0;
  const struct nlattr* a;
  while ((a = next_attr(&at, &len, &bad))) {
    if (atype(a) != NFTA_SET_ELEM_LIST_ELEMENTS) continue;
    const unsigned char* e_at = apay(a);
    size_t e_left = alen(a);
    const struct nlattr* e;
    while ((e = next_attr(&e_at, &e_left, &bad))) {
      if (cb) cb(ctx, apay(e), alen(e));
      n++;
    }
  }
  return bad ? -EINVAL : n;
}

/* ---- canonical form ---- */

static void zero_u64s(struct nlattr* nest, uint16_t t1, uint16_t t2, int* bad) {
  const unsigned char* at = apay(nest);
  size_t left = alen(nest);
  const struct nlattr* a;
  while ((a = next_attr(&at, &left, bad))) {
    if ((atype(a) == t1 || atype(a) == t2) && alen(a) >= sizeof(uint64_t)) {
      memset((unsigned char*)apay(a), 0, sizeof(uint64_t));
    }
  }
}

/* One expression (NAME, DATA): a counter's or a quota's running values to zero. */
static void zero_expr(struct nlattr* expr, int* bad) {
  const unsigned char* at = apay(expr);
  size_t left = alen(expr);
  const char* name = NULL;
  struct nlattr* data = NULL;
  const struct nlattr* a;
  while ((a = next_attr(&at, &left, bad))) {
    if (atype(a) == NFTA_EXPR_NAME) name = astr(a);
    if (atype(a) == NFTA_EXPR_DATA) data = (struct nlattr*)a;
  }
  if (!name || !data) return;
  if (strcmp(name, "counter") == 0) zero_u64s(data, NFTA_COUNTER_PACKETS, NFTA_COUNTER_BYTES, bad);
  if (strcmp(name, "quota") == 0) zero_u64s(data, NFTA_QUOTA_CONSUMED, NFTA_QUOTA_CONSUMED, bad);
}

static void zero_expr_list(struct nlattr* list, int* bad) {
  const unsigned char* at = apay(list);
  size_t left = alen(list);
  const struct nlattr* e;
  while ((e = next_attr(&at, &left, bad))) zero_expr((struct nlattr*)e, bad);
}

int ngnft_tmsg_canonicalize(int kind, void* attrs, size_t len) {
  if (kind < 0 || kind >= NGNFT_T_KINDS || (!attrs && len)) return -EINVAL;
  ngnft_tmsg_info info;
  if (ngnft_tmsg_describe(kind, attrs, len, &info) < 0) return -EINVAL;
  const unsigned char* at = attrs;
  int bad = 0;
  const struct nlattr* a;
  while ((a = next_attr(&at, &len, &bad))) {
    struct nlattr* m = (struct nlattr*)a;
    const uint16_t t = atype(a);
    if (kind == NGNFT_T_RULE && t == NFTA_RULE_EXPRESSIONS) zero_expr_list(m, &bad);
    if (kind == NGNFT_T_OBJ && t == NFTA_OBJ_DATA) {
      if (info.obj_type == NFT_OBJECT_COUNTER) {
        zero_u64s(m, NFTA_COUNTER_PACKETS, NFTA_COUNTER_BYTES, &bad);
      }
      if (info.obj_type == NFT_OBJECT_QUOTA) {
        zero_u64s(m, NFTA_QUOTA_CONSUMED, NFTA_QUOTA_CONSUMED, &bad);
      }
    }
    if (kind == NGNFT_T_SETELEM && t == NFTA_SET_ELEM_LIST_ELEMENTS) {
      const unsigned char* e_at = apay(a);
      size_t e_left = alen(a);
      const struct nlattr* e;
      while ((e = next_attr(&e_at, &e_left, &bad))) {
        const unsigned char* in = apay(e);
        size_t in_left = alen(e);
        const struct nlattr* x;
        while ((x = next_attr(&in, &in_left, &bad))) {
          if (atype(x) == NFTA_SET_ELEM_EXPR) zero_expr((struct nlattr*)x, &bad);
          if (atype(x) == NFTA_SET_ELEM_EXPRESSIONS) zero_expr_list((struct nlattr*)x, &bad);
        }
      }
    }
  }
  return bad ? -EINVAL : 0;
}

/* ---- the restore batch ---- */

static int table_of(const void* attrs, size_t len, const char** table) {
  const unsigned char* at = attrs;
  int bad = 0;
  const struct nlattr* a;
  *table = NULL;
  while ((a = next_attr(&at, &len, &bad))) {
    if (atype(a) == 1) *table = astr(a);
  }
  return bad ? -EINVAL : 0;
}

static int put_set(ngnft_batch* b, const ngnft_tmsg* m, uint32_t id) {
  unsigned char* buf = malloc(m->len + 8);
  if (!buf) return -ENOMEM;
  memcpy(buf, m->attrs, m->len);
  unsigned char* p = put_hdr(buf + m->len, NFTA_SET_ID, sizeof(uint32_t));
  const uint32_t be = htonl(id);
  memcpy(p, &be, sizeof(be));
  const int rc = ngnft_batch_put(b, NFT_MSG_NEWSET, NLM_F_CREATE, buf, m->len + 8);
  free(buf);
  return rc;
}

static int put_all(ngnft_batch* b, const char* table, const ngnft_tmsg* msgs, size_t n) {
  int rc = 0;
  uint32_t set_id = 0;
  for (size_t k = 0; k < n && rc == 0; ++k) {
    const ngnft_tmsg* m = &msgs[k];
    const char* t = NULL;
    if (m->kind < 0 || m->kind >= NGNFT_T_KINDS || m->len % 4 != 0 ||
        table_of(m->attrs, m->len, &t) < 0 || !t || strcmp(t, table) != 0) {
      rc = -EINVAL;
    } else if (m->kind == NGNFT_T_SET) {
      rc = put_set(b, m, ++set_id);
    } else {
      const uint16_t flags = NLM_F_CREATE | (m->kind == NGNFT_T_RULE ? NLM_F_APPEND : 0);
      rc = ngnft_batch_put(b, kMsgOfKind[m->kind], flags, m->attrs, m->len);
    }
  }
  return rc < 0 ? rc : 0;
}

int ngnft_table_restore_batch(int nfproto, const char* table, int delete_first,
                              const ngnft_tmsg* msgs, size_t n, uint32_t genid, uint32_t seq,
                              ngnft_batch** out) {
  *out = NULL;
  if (!table || !table[0] || strlen(table) >= NFT_TABLE_MAXNAMELEN || nfproto < 0 ||
      nfproto > 255) {
    return -EINVAL;
  }
  ngnft_batch* b = ngnft_batch_begin_nfproto((uint8_t)nfproto, genid, seq);
  if (!b) return -ENOMEM;
  int rc = 0;
  if (delete_first) {
    unsigned char del[4 + NFT_TABLE_MAXNAMELEN + 4];
    memset(del, 0, sizeof(del));
    const size_t sl = strlen(table) + 1;
    memcpy(put_hdr(del, NFTA_TABLE_NAME, sl), table, sl);
    rc = ngnft_batch_put(b, NFT_MSG_DELTABLE, 0, del, MNL_ALIGN(sizeof(struct nlattr) + sl));
  }
  if (rc == 0) rc = put_all(b, table, msgs, n);
  if (rc == 0) rc = ngnft_batch_end(b);
  if (rc < 0) {
    ngnft_batch_free(b);
    return rc;
  }
  *out = b;
  return 0;
}

int ngnft_table_restore(ngnft_sock* s, int nfproto, const char* table, int delete_first,
                        const ngnft_tmsg* msgs, size_t n, uint32_t genid, int timeout_ms,
                        int* failed_index) {
  *failed_index = -1;
  ngnft_batch* b = NULL;
  int rc = ngnft_table_restore_batch(nfproto, table, delete_first, msgs, n, genid, ++s->seq, &b);
  if (rc < 0) return rc;
  s->seq += (unsigned int)ngnft_batch_messages(b) + 2;
  rc = ngnft_batch_send(s, b, timeout_ms, failed_index);
  ngnft_batch_free(b);
  return rc;
}

uint64_t ngnft_deleting_msgs(void) {
  return (1ull << NFT_MSG_DELTABLE) | (1ull << NFT_MSG_DELCHAIN) | (1ull << NFT_MSG_DELRULE) |
         (1ull << NFT_MSG_DELSET) | (1ull << NFT_MSG_DELSETELEM) | (1ull << NFT_MSG_DELOBJ) |
         (1ull << NFT_MSG_DELFLOWTABLE);
}
