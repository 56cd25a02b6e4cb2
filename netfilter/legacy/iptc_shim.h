/* The legacy iptables (xtables) kernel interface behind a small C API: libiptc reads and
 * commits, and the cheap IPT_SO_GET_INFO change check. Kernel and libiptc headers stay in the
 * .c files (they do not compile as C++). family is 4 or 6. Functions return 0 on success or an
 * errno value. libiptc keeps file-static state: callers serialise every call. */
#ifndef NODEGUARD_NETFILTER_LEGACY_IPTC_SHIM_H
#define NODEGUARD_NETFILTER_LEGACY_IPTC_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A copy of one table as libiptc sees it. Rule blobs are normalised entries: counters and
 * kernel bookkeeping zeroed, and jumps/verdicts carried by name (the chain or ACCEPT/DROP/...)
 * so the blob can be handed back to libiptc in a later commit. */
typedef struct ngiptc_table ngiptc_table;

int ngiptc_read(int family, const char* table, ngiptc_table** out);
size_t ngiptc_chain_count(const ngiptc_table* t);
const char* ngiptc_chain_name(const ngiptc_table* t, size_t chain);
/* NULL for user chains. */
const char* ngiptc_chain_policy(const ngiptc_table* t, size_t chain);
size_t ngiptc_rule_count(const ngiptc_table* t, size_t chain);
const unsigned char* ngiptc_rule_blob(const ngiptc_table* t, size_t chain, size_t rule,
                                      size_t* len);
void ngiptc_table_free(ngiptc_table* t);

/* One commit: a fresh libiptc snapshot edited in memory and replaced whole by ngiptc_commit.
 * The kernel refuses the commit (EAGAIN) if the table changed since ngiptc_begin. */
typedef struct ngiptc_txn ngiptc_txn;

int ngiptc_begin(int family, const char* table, ngiptc_txn** out);
/* Creates the chain, or flushes it when it exists. */
int ngiptc_chain_reset(ngiptc_txn* x, const char* chain);
int ngiptc_append(ngiptc_txn* x, const char* chain, const unsigned char* blob, size_t len);
/* pos is 0-based; pos == rule count appends. */
int ngiptc_insert(ngiptc_txn* x, const char* chain, const unsigned char* blob, size_t len,
                  unsigned int pos);
int ngiptc_delete_num(ngiptc_txn* x, const char* chain, unsigned int pos);
int ngiptc_set_policy(ngiptc_txn* x, const char* chain, const char* policy);
/* Commits and frees the transaction in every case. */
int ngiptc_commit(ngiptc_txn* x);
void ngiptc_abort(ngiptc_txn* x);
const char* ngiptc_strerror(int family, int err);

/* IPT_SO_GET_INFO / IP6T_SO_GET_INFO: size, entry count and hook offsets of a table, copying no
 * rules. fd is a raw socket of the family (ngiptc_info_socket). */
typedef struct {
  uint32_t valid_hooks;
  uint32_t hook_entry[5];
  uint32_t underflow[5];
  uint32_t num_entries;
  uint32_t size;
} ngiptc_info;

int ngiptc_info_socket(int family); /* -errno on failure */
int ngiptc_get_info(int fd, int family, const char* table, ngiptc_info* out);

/* A hash of every entry of the table without packet/byte counters: catches what GET_INFO cannot
 * (a policy flip, a rule replaced by one of the same size). Copies the table: costs O(size). */
int ngiptc_content_hash(int fd, int family, const char* table, uint64_t* out);

#ifdef __cplusplus
}
#endif

#endif
