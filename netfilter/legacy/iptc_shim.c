/* The public shim API (iptc_shim.h): dispatches to the IPv4 or IPv6 instantiation. */
#include "netfilter/legacy/iptc_shim.h"

#include <errno.h>
#include <stdlib.h>

/* Same layout as in iptc_shim_impl.inc. */
struct rule_copy {
  unsigned char* blob;
  size_t len;
};
struct chain_copy {
  char* name;
  char* policy;
  struct rule_copy* rules;
  size_t nrules;
};

#define DECLARE(fam)                                                                           \
  int ngiptc##fam##_do_read(const char* table, void** out);                                    \
  void ngiptc##fam##_do_free(void* t);                                                         \
  size_t ngiptc##fam##_do_chain_count(const void* t);                                          \
  const void* ngiptc##fam##_do_chain(const void* t, size_t i);                                 \
  int ngiptc##fam##_do_begin(const char* table, void** out);                                   \
  int ngiptc##fam##_do_chain_reset(void* h, const char* c);                                    \
  int ngiptc##fam##_do_append(void* h, const char* c, const unsigned char* b);                 \
  int ngiptc##fam##_do_insert(void* h, const char* c, const unsigned char* b, unsigned int p); \
  int ngiptc##fam##_do_delete_num(void* h, const char* c, unsigned int p);                     \
  int ngiptc##fam##_do_set_policy(void* h, const char* c, const char* p);                      \
  int ngiptc##fam##_do_commit(void* h);                                                        \
  void ngiptc##fam##_do_abort(void* h);                                                        \
  const char* ngiptc##fam##_do_strerror(int err);                                              \
  int ngiptc##fam##_do_get_info(int fd, const char* table, unsigned int* out);                 \
  int ngiptc##fam##_do_socket(void);                                                           \
  int ngiptc##fam##_do_content_hash(int fd, const char* table, unsigned long long* out);
DECLARE(4)
DECLARE(6)

struct ngiptc_table {
  int family;
  void* impl;
};
struct ngiptc_txn {
  int family;
  void* h;
};

#define DISPATCH(family, call4, call6) ((family) == 6 ? (call6) : (call4))

int ngiptc_read(int family, const char* table, ngiptc_table** out) {
  void* impl = NULL;
  int rc = DISPATCH(family, ngiptc4_do_read(table, &impl), ngiptc6_do_read(table, &impl));
  if (rc) return rc;
  ngiptc_table* t = malloc(sizeof(*t));
  if (!t) {
    DISPATCH(family, (ngiptc4_do_free(impl), 0), (ngiptc6_do_free(impl), 0));
    return ENOMEM;
  }
  t->family = family;
  t->impl = impl;
  *out = t;
  return 0;
}

static const struct chain_copy* chain_at(const ngiptc_table* t, size_t i) {
  return DISPATCH(t->family, ngiptc4_do_chain(t->impl, i), ngiptc6_do_chain(t->impl, i));
}

size_t ngiptc_chain_count(const ngiptc_table* t) {
  return DISPATCH(t->family, ngiptc4_do_chain_count(t->impl), ngiptc6_do_chain_count(t->impl));
}
const char* ngiptc_chain_name(const ngiptc_table* t, size_t chain) {
  return chain_at(t, chain)->name;
}
const char* ngiptc_chain_policy(const ngiptc_table* t, size_t chain) {
  return chain_at(t, chain)->policy;
}
size_t ngiptc_rule_count(const ngiptc_table* t, size_t chain) {
  return chain_at(t, chain)->nrules;
}
const unsigned char* ngiptc_rule_blob(const ngiptc_table* t, size_t chain, size_t rule,
                                      size_t* len) {
  const struct rule_copy* r = &chain_at(t, chain)->rules[rule];
  *len = r->len;
  return r->blob;
}
void ngiptc_table_free(ngiptc_table* t) {
  if (!t) return;
  if (t->family == 6) {
    ngiptc6_do_free(t->impl);
  } else {
    ngiptc4_do_free(t->impl);
  }
  free(t);
}

int ngiptc_begin(int family, const char* table, ngiptc_txn** out) {
  void* h = NULL;
  int rc = DISPATCH(family, ngiptc4_do_begin(table, &h), ngiptc6_do_begin(table, &h));
  if (rc) return rc;
  ngiptc_txn* x = malloc(sizeof(*x));
  if (!x) {
    if (family == 6) {
      ngiptc6_do_abort(h);
    } else {
      ngiptc4_do_abort(h);
    }
    return ENOMEM;
  }
  x->family = family;
  x->h = h;
  *out = x;
  return 0;
}
int ngiptc_chain_reset(ngiptc_txn* x, const char* chain) {
  return DISPATCH(x->family, ngiptc4_do_chain_reset(x->h, chain),
                  ngiptc6_do_chain_reset(x->h, chain));
}
int ngiptc_append(ngiptc_txn* x, const char* chain, const unsigned char* blob, size_t len) {
  (void)len;
  return DISPATCH(x->family, ngiptc4_do_append(x->h, chain, blob),
                  ngiptc6_do_append(x->h, chain, blob));
}
int ngiptc_insert(ngiptc_txn* x, const char* chain, const unsigned char* blob, size_t len,
                  unsigned int pos) {
  (void)len;
  return DISPATCH(x->family, ngiptc4_do_insert(x->h, chain, blob, pos),
                  ngiptc6_do_insert(x->h, chain, blob, pos));
}
int ngiptc_delete_num(ngiptc_txn* x, const char* chain, unsigned int pos) {
  return DISPATCH(x->family, ngiptc4_do_delete_num(x->h, chain, pos),
                  ngiptc6_do_delete_num(x->h, chain, pos));
}
int ngiptc_set_policy(ngiptc_txn* x, const char* chain, const char* policy) {
  return DISPATCH(x->family, ngiptc4_do_set_policy(x->h, chain, policy),
                  ngiptc6_do_set_policy(x->h, chain, policy));
}
int ngiptc_commit(ngiptc_txn* x) {
  int rc = DISPATCH(x->family, ngiptc4_do_commit(x->h), ngiptc6_do_commit(x->h));
  free(x);
  return rc;
}
void ngiptc_abort(ngiptc_txn* x) {
  if (!x) return;
  if (x->family == 6) {
    ngiptc6_do_abort(x->h);
  } else {
    ngiptc4_do_abort(x->h);
  }
  free(x);
}
const char* ngiptc_strerror(int family, int err) {
  return DISPATCH(family, ngiptc4_do_strerror(err), ngiptc6_do_strerror(err));
}
int ngiptc_info_socket(int family) {
  return DISPATCH(family, ngiptc4_do_socket(), ngiptc6_do_socket());
}
int ngiptc_get_info(int fd, int family, const char* table, ngiptc_info* out) {
  unsigned int w[13];
  int rc = DISPATCH(family, ngiptc4_do_get_info(fd, table, w), ngiptc6_do_get_info(fd, table, w));
  if (rc) return rc;
  out->valid_hooks = w[0];
  for (int i = 0; i < 5; ++i) {
    out->hook_entry[i] = w[1 + i];
    out->underflow[i] = w[6 + i];
  }
  out->num_entries = w[11];
  out->size = w[12];
  return 0;
}

int ngiptc_content_hash(int fd, int family, const char* table, uint64_t* out) {
  unsigned long long h = 0;
  int rc = DISPATCH(family, ngiptc4_do_content_hash(fd, table, &h),
                    ngiptc6_do_content_hash(fd, table, &h));
  if (rc) return rc;
  *out = h;
  return 0;
}
