#include "netfilter/nft/nft_restore_order.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>

/* A set whose elements travel with it: anonymous sets (placed before the first rule binding
 * them) and constant ones (placed where they are defined). The kernel refuses elements for
 * either kind once a rule has bound the set (EBUSY). */
typedef struct held_set {
  const char* name;
  size_t msg;    /* the NEWSET */
  size_t* elems; /* its element messages, in order */
  size_t nelems;
  int placed;
  int lazy; /* anonymous: placed by the first rule naming it */
} held_set;

/* What held[i] says of message i. */
enum { kRegular = 0, kHeld = 1, kConstantSet = 2 };

static int by_name(const void* a, const void* b) {
  return strcmp(((const held_set*)a)->name, ((const held_set*)b)->name);
}

static held_set* find(held_set* sets, size_t n, const char* name) {
  if (n == 0) return NULL; /* bsearch's base must not be NULL, even for 0 elements */
  const held_set key = {name, 0, NULL, 0, 0, 0};
  return bsearch(&key, sets, n, sizeof(*sets), by_name);
}

static const char* str_of(const struct nlattr* a) {
  const size_t n = mnl_attr_get_payload_len(a);
  const char* s = mnl_attr_get_payload(a);
  return n && memchr(s, '\0', n) ? s : NULL;
}

/* The set an expression's data names: lookup, dynset and objref take it as a string. */
static const char* expr_set(const char* expr, const struct nlattr* data) {
  int want;
  if (strcmp(expr, "lookup") == 0)
    want = NFTA_LOOKUP_SET;
  else if (strcmp(expr, "dynset") == 0)
    want = NFTA_DYNSET_SET_NAME;
  else if (strcmp(expr, "objref") == 0)
    want = NFTA_OBJREF_SET_NAME;
  else
    return NULL;
  const struct nlattr* a;
  mnl_attr_for_each_nested(a, data) {
    if (mnl_attr_get_type(a) == want) return str_of(a);
  }
  return NULL;
}

/* Calls place() for each set a rule's expressions name, in order. */
typedef void (*name_fn)(void* ctx, const char* set);
static void rule_sets(const void* attrs, size_t len, name_fn place, void* ctx) {
  const struct nlattr* attr;
  mnl_attr_for_each_payload(attrs, len) {
    const struct nlattr* top = attr;
    if (mnl_attr_get_type(top) != NFTA_RULE_EXPRESSIONS) continue;
    const struct nlattr* elem;
    mnl_attr_for_each_nested(elem, top) {
      const char* name = NULL;
      const struct nlattr* data = NULL;
      const struct nlattr* a;
      mnl_attr_for_each_nested(a, elem) {
        if (mnl_attr_get_type(a) == NFTA_EXPR_NAME) name = str_of(a);
        if (mnl_attr_get_type(a) == NFTA_EXPR_DATA) data = a;
      }
      const char* set = name && data ? expr_set(name, data) : NULL;
      if (set) place(ctx, set);
    }
  }
}

typedef struct placing {
  held_set* sets;
  size_t nsets;
  size_t* out;
  size_t at;
} placing;

static void place_set(placing* p, held_set* s) {
  if (s->placed) return;
  s->placed = 1;
  p->out[p->at++] = s->msg;
  for (size_t i = 0; i < s->nelems; ++i) p->out[p->at++] = s->elems[i];
}

static void place_named(void* ctx, const char* name) {
  placing* p = ctx;
  held_set* s = find(p->sets, p->nsets, name);
  if (s && s->lazy) place_set(p, s);
}

/* The anonymous and constant sets, sorted by name, each with its element messages. */
static int collect(const ngnft_tmsg* msgs, size_t n, held_set** out, size_t* nout, char* held) {
  held_set* sets = NULL;
  size_t nsets = 0;
  for (size_t i = 0; i < n; ++i) {
    ngnft_tmsg_info info;
    if (msgs[i].kind != NGNFT_T_SET) continue;
    if (ngnft_tmsg_describe(msgs[i].kind, msgs[i].attrs, msgs[i].len, &info) < 0) return -EINVAL;
    const int anon = (info.set_flags & NFT_SET_ANONYMOUS) != 0;
    if ((!anon && !(info.set_flags & NFT_SET_CONSTANT)) || !info.name) continue;
    held_set* grown = realloc(sets, (nsets + 1) * sizeof(*sets));
    if (!grown) goto nomem;
    sets = grown;
    sets[nsets++] = (held_set){info.name, i, NULL, 0, 0, anon};
    held[i] = anon ? kHeld : kConstantSet;
  }
  if (nsets) qsort(sets, nsets, sizeof(*sets), by_name);
  for (size_t i = 0; i < n; ++i) {
    ngnft_tmsg_info info;
    if (msgs[i].kind != NGNFT_T_SETELEM) continue;
    if (ngnft_tmsg_describe(msgs[i].kind, msgs[i].attrs, msgs[i].len, &info) < 0) goto bad;
    held_set* s = info.name ? find(sets, nsets, info.name) : NULL;
    if (!s) continue;
    size_t* grown = realloc(s->elems, (s->nelems + 1) * sizeof(size_t));
    if (!grown) goto nomem;
    s->elems = grown;
    s->elems[s->nelems++] = i;
    held[i] = kHeld;
  }
  *out = sets;
  *nout = nsets;
  return 0;
bad:
  for (size_t i = 0; i < nsets; ++i) free(sets[i].elems);
  free(sets);
  return -EINVAL;
nomem:
  for (size_t i = 0; i < nsets; ++i) free(sets[i].elems);
  free(sets);
  return -ENOMEM;
}

static int by_str(const void* a, const void* b) {
  return strcmp(*(const char* const*)a, *(const char* const*)b);
}

static const char* rule_chain(const ngnft_tmsg* m) {
  ngnft_tmsg_info info;
  return ngnft_tmsg_describe(m->kind, m->attrs, m->len, &info) == 0 ? info.chain : NULL;
}

static void count_named(void* ctx, const char* name) {
  placing* p = ctx;
  const held_set* s = find(p->sets, p->nsets, name);
  if (s && s->lazy) p->at++;
}

/* The chains (sorted) holding a rule that binds an anonymous set. */
static int binding_chains(const ngnft_tmsg* msgs, size_t n, placing* p, const char*** out,
                          size_t* nout) {
  const char** chains = NULL;
  size_t nc = 0;
  for (size_t i = 0; i < n; ++i) {
    if (msgs[i].kind != NGNFT_T_RULE) continue;
    p->at = 0;
    rule_sets(msgs[i].attrs, msgs[i].len, count_named, p);
    const char* c = p->at ? rule_chain(&msgs[i]) : NULL;
    if (!c || (nc && strcmp(chains[nc - 1], c) == 0)) continue;
    const char** grown = realloc(chains, (nc + 1) * sizeof(*chains));
    if (!grown) {
      free(chains);
      return -ENOMEM;
    }
    chains = grown;
    chains[nc++] = c;
  }
  if (nc) qsort(chains, nc, sizeof(*chains), by_str);
  p->at = 0;
  *out = chains;
  *nout = nc;
  return 0;
}

static int in_chains(const char** chains, size_t n, const char* c) {
  return c && n && bsearch(&c, chains, n, sizeof(*chains), by_str) != NULL;
}

/* The batch: definitions (table, chains, objects, flowtables, named sets), then the rules of
 * the chains that bind anonymous sets (each set and its elements right before its first
 * rule), then the named sets' elements, then every other rule. Rules keep their order within
 * each chain (they are appended), which is all the kernel keeps. */
static void place_all(const ngnft_tmsg* msgs, size_t n, const char* held, placing* p,
                      const char** chains, size_t nc) {
  for (size_t i = 0; i < n; ++i) {
    if (held[i] == kConstantSet) {
      ngnft_tmsg_info info;
      (void)ngnft_tmsg_describe(msgs[i].kind, msgs[i].attrs, msgs[i].len, &info);
      held_set* s = info.name ? find(p->sets, p->nsets, info.name) : NULL;
      if (s) place_set(p, s);
    } else if (!held[i] && msgs[i].kind != NGNFT_T_RULE && msgs[i].kind != NGNFT_T_SETELEM) {
      p->out[p->at++] = i;
    }
  }
  for (int pass = 0; pass < 3; ++pass) {
    for (size_t i = 0; i < n; ++i) {
      if (held[i]) continue;
      if (pass == 1 && msgs[i].kind == NGNFT_T_SETELEM) p->out[p->at++] = i;
      if (pass == 1 || msgs[i].kind != NGNFT_T_RULE) continue;
      if (in_chains(chains, nc, rule_chain(&msgs[i])) != (pass == 0)) continue;
      rule_sets(msgs[i].attrs, msgs[i].len, place_named, p);
      p->out[p->at++] = i;
    }
  }
  for (size_t i = 0; i < p->nsets; ++i) place_set(p, &p->sets[i]);
}

int ngnft_restore_order(const ngnft_tmsg* msgs, size_t n, size_t** order) {
  *order = NULL;
  if (n && !msgs) return -EINVAL;
  size_t* out = malloc((n ? n : 1) * sizeof(size_t));
  char* held = calloc(n ? n : 1, 1);
  held_set* sets = NULL;
  size_t nsets = 0;
  const char** chains = NULL;
  size_t nc = 0;
  int rc = out && held ? collect(msgs, n, &sets, &nsets, held) : -ENOMEM;
  placing p = {sets, nsets, out, 0};
  if (rc == 0) rc = binding_chains(msgs, n, &p, &chains, &nc);
  if (rc == 0) {
    place_all(msgs, n, held, &p, chains, nc);
    if (p.at != n) rc = -EINVAL; /* every message exactly once */
  }
  free(chains);
  for (size_t i = 0; i < nsets; ++i) free(sets[i].elems);
  free(sets);
  free(held);
  if (rc < 0) {
    free(out);
    return rc;
  }
  *order = out;
  return 0;
}
