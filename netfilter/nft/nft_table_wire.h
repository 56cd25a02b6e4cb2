/* One whole nftables table of any family as the kernel holds it, over netlink (libmnl), behind
 * a small C API: dump it (table, chains, stateful objects, flowtables, sets with their elements,
 * rules), each message kept as its attributes minus what the kernel generates (handles, use
 * counts, positions, element expiration); restore it as one batch pinned to a generation.
 * Used by the native table guard (netfilter/native/); kernel headers stay in the .c file.
 *
 * Functions return 0 (or a count) on success and -errno on failure. Parsers are pure functions
 * over bytes and never trust a length they did not check (tests/fuzz/nft_table_fuzzer.cc). */
#ifndef NODEGUARD_NETFILTER_NFT_NFT_TABLE_WIRE_H
#define NODEGUARD_NETFILTER_NFT_NFT_TABLE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "netfilter/nft/nft_netlink.h"
#include "netfilter/nft/nft_replay_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Message kinds of a table, in the order a restore must create them. */
enum {
  NGNFT_T_TABLE = 0,
  NGNFT_T_CHAIN = 1,
  NGNFT_T_OBJ = 2,
  NGNFT_T_FLOWTABLE = 3,
  NGNFT_T_SET = 4,
  NGNFT_T_SETELEM = 5,
  NGNFT_T_RULE = 6,
  NGNFT_T_KINDS = 7,
};

/* One message of the table: kind (NGNFT_T_*) and its attributes as re-sendable bytes. Valid
 * during the callback only. */
typedef void (*ngnft_tmsg_cb)(void* ctx, int kind, const void* attrs, size_t len);

/* Parses one buffer of dump replies: every message of table `table` in family nfproto goes to
 * cb, stripped; NFT_MSG_NEWGEN sets *genid (if genid is not NULL). Returns 1 when the dump (or
 * the ack) ended, 0 when more may follow, -EINTR on NLM_F_DUMP_INTR, the error of an error
 * reply, or -EINVAL for a malformed buffer. */
int ngnft_table_parse(const void* buf, size_t len, int nfproto, const char* table, ngnft_tmsg_cb cb,
                      void* ctx, uint32_t* genid);

/* Dumps the table, reading the generation before and after. Returns 0 (*genid: the generation
 * the dump is consistent with), -ENOENT when the table does not exist (*genid set too), -EINTR
 * when the ruleset changed during the dump (retry), -E2BIG past max_sets sets, or -errno.
 * tap (may be NULL) sees every reply buffer as received (capturing test data). */
int ngnft_table_dump(ngnft_sock* s, int nfproto, const char* table, size_t max_sets,
                     ngnft_tmsg_cb cb, void* ctx, uint32_t* genid, ngnft_tap_fn tap, void* tap_ctx);

/* What a stripped message says (pure). name: the table, chain, set, object or flowtable name
 * (the set for an element message); chain: a rule's chain; base: a chain with a hook;
 * elements: an element message's element count; obj_type: an object's NFT_OBJECT_*. Strings
 * point into attrs. Returns 0 or -EINVAL. */
typedef struct ngnft_tmsg_info {
  const char* name;
  const char* chain;
  int base;
  uint32_t elements;
  uint32_t obj_type;
  uint32_t set_flags;
} ngnft_tmsg_info;
int ngnft_tmsg_describe(int kind, const void* attrs, size_t len, ngnft_tmsg_info* out);

/* Calls cb with each element (the attributes inside one NFTA_LIST_ELEM) of an element message.
 * Returns the count or -EINVAL. */
typedef void (*ngnft_elem_cb)(void* ctx, const void* elem, size_t len);
int ngnft_setelem_each(const void* attrs, size_t len, ngnft_elem_cb cb, void* ctx);

/* Zeroes in place what traffic changes (counter values in rule expressions, counter and quota
 * objects' values), for comparing a table with its read-back. Returns 0 or -EINVAL. */
int ngnft_tmsg_canonicalize(int kind, void* attrs, size_t len);

/* One message to restore. */
typedef struct ngnft_tmsg {
  int kind;
  const void* attrs;
  size_t len;
} ngnft_tmsg;

/* Builds the restore batch (pure): [NFT_MSG_DELTABLE when delete_first] then every message in
 * the order given (the dump's order works; ngnft_restore_order's is faster for the kernel),
 * creating (NLM_F_CREATE; rules appended), each set given an NFTA_SET_ID, pinned to genid.
 * Messages of another table are refused (-EINVAL): nothing outside the table is written.
 * Returns the closed batch in *out or -errno. */
int ngnft_table_restore_batch(int nfproto, const char* table, int delete_first,
                              const ngnft_tmsg* msgs, size_t n, uint32_t genid, uint32_t seq,
                              ngnft_batch** out);

/* Builds and sends it; the kernel applies all of it or nothing. Returns 0, -ERESTART when the
 * generation moved, or the first error (*failed_index: its message, -1 the whole batch). */
int ngnft_table_restore(ngnft_sock* s, int nfproto, const char* table, int delete_first,
                        const ngnft_tmsg* msgs, size_t n, uint32_t genid, int timeout_ms,
                        int* failed_index);

/* The bits (1 << NFT_MSG_*) of the messages that delete something: a transaction touching a
 * table with none of them cannot have wiped it (NftTouchedTable::msgs). */
uint64_t ngnft_deleting_msgs(void);

#ifdef __cplusplus
}
#endif

#endif
