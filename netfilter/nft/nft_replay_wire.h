/* nftables rule replay over netlink (libmnl) behind a small C API: dump one table's chains and
 * rules with the kernel's own encoding of each rule, and write one batch (one transaction) of
 * table, chain and rule messages. Used by the nft backend's fast write path
 * (netfilter/nft/nft_replay.h); kernel headers stay in the .c file.
 *
 * Functions return 0 (or a count) on success and -errno on failure. Parsers are pure functions
 * over bytes and never trust a length they did not check (they are fuzzed). */
#ifndef NODEGUARD_NETFILTER_NFT_NFT_REPLAY_WIRE_H
#define NODEGUARD_NETFILTER_NFT_NFT_REPLAY_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "netfilter/nft/nft_netlink.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A table as dumped. def: the attributes that re-create it (NFTA_TABLE_USERDATA, if any). */
typedef struct ngnft_table_info {
  int family; /* 4, 6, or 0 for other families */
  const char* name;
  uint32_t flags; /* NFTA_TABLE_FLAGS (dormant, owner...): iptables-nft sets none */
  const void* def;
  size_t def_len;
} ngnft_table_info;

/* A chain as dumped. Base chains (with a hook) carry def: their NFTA_CHAIN_HOOK and
 * NFTA_CHAIN_TYPE attributes as dumped, enough to re-create them. */
typedef struct ngnft_chain_info {
  int family;
  const char* table;
  const char* name;
  int base;
  int policy; /* NF_ACCEPT (1) / NF_DROP (0) for base chains, -1 otherwise */
  const void* def;
  size_t def_len;
} ngnft_chain_info;

/* Verdict codes as the kernel encodes them (NF_DROP, NF_ACCEPT, NFT_RETURN, NFT_JUMP, NFT_GOTO). */
enum {
  NGNFT_VERDICT_DROP = 0,
  NGNFT_VERDICT_ACCEPT = 1,
  NGNFT_VERDICT_RETURN = -5,
  NGNFT_VERDICT_JUMP = -3,
  NGNFT_VERDICT_GOTO = -4,
};

/* A rule as dumped. attrs is what a NEWRULE needs to re-create it after its table and chain:
 * NFTA_RULE_EXPRESSIONS as dumped with every counter's values zeroed, NFTA_RULE_USERDATA as
 * dumped, and NFTA_RULE_COMPAT (which the kernel does not dump) rebuilt from the rule's
 * protocol match, which xt matches and targets need (iptables-nft sends the same). Pointers
 * are valid during the callback only. */
typedef struct ngnft_rule_info {
  int family;
  const char* table;
  const char* chain;
  uint64_t handle;
  const void* attrs;
  size_t attrs_len;
  uint64_t packets;          /* what the rule's counters held (zeroed in attrs) */
  int has_verdict;           /* an immediate into the verdict register */
  int32_t verdict;           /* its code (NGNFT_VERDICT_*) */
  const char* verdict_chain; /* jump/goto target, else NULL */
  /* 0: holds an expression that refers to other kernel objects (sets, stateful objects,
   * flowtables) or is malformed; such a rule is not replayed. */
  int replayable;
} ngnft_rule_info;

typedef struct ngnft_dump_cb {
  void (*table)(void* ctx, const ngnft_table_info* t);
  void (*chain)(void* ctx, const ngnft_chain_info* c);
  void (*rule)(void* ctx, const ngnft_rule_info* r);
} ngnft_dump_cb;

/* Parses one buffer of dump replies (NEWTABLE, NEWCHAIN, NEWRULE messages) and calls cb for
 * each. Returns 1 when the dump ended (NLMSG_DONE, or an ack), 0 when more may follow,
 * -EINTR when the kernel flagged the dump inconsistent (NLM_F_DUMP_INTR: the ruleset changed
 * meanwhile), the error of an error reply, or -EINVAL for a malformed buffer. */
int ngnft_parse_dump(const void* buf, size_t len, const ngnft_dump_cb* cb, void* ctx);

/* Dumps table `table` of family 4 or 6 from the kernel: the table, every chain of the family
 * (cb filters), the table's rules. Returns 0, -ENOENT when the table does not exist, -EINTR when
 * the ruleset changed during the dump, or another -errno. */
int ngnft_dump_table(ngnft_sock* s, int family, const char* table, const ngnft_dump_cb* cb,
                     void* ctx);
/* The same, handing every reply buffer as received to tap first (capturing test data). */
typedef void (*ngnft_tap_fn)(void* tap_ctx, const void* buf, size_t len);
int ngnft_dump_table_tap(ngnft_sock* s, int family, const char* table, const ngnft_dump_cb* cb,
                         void* ctx, ngnft_tap_fn tap, void* tap_ctx);

/* What rule attributes hold, for tests and diagnostics. */
typedef struct ngnft_rule_summary {
  int expressions;
  uint64_t counter_packets; /* sums over counter expressions */
  uint64_t counter_bytes;
  int has_compat;
  uint32_t compat_proto;
  uint32_t compat_flags;
} ngnft_rule_summary;
/* Returns 0, or -EINVAL when attrs is not well formed. */
int ngnft_rule_attrs_summary(const void* attrs, size_t len, ngnft_rule_summary* out);

/* 1 when attrs is a well-formed run of NFTA_RULE_EXPRESSIONS / NFTA_RULE_USERDATA /
 * NFTA_RULE_COMPAT attributes, each padded to 4 bytes; 0 otherwise. */
int ngnft_rule_attrs_valid(const void* attrs, size_t len);
/* The same for a base chain definition (NFTA_CHAIN_HOOK, NFTA_CHAIN_TYPE) and a table
 * definition (NFTA_TABLE_USERDATA). */
int ngnft_chain_def_valid(const void* def, size_t len);
int ngnft_table_def_valid(const void* def, size_t len);

/* One transaction: NFNL_MSG_BATCH_BEGIN (with the generation id the batch was planned
 * against: the kernel refuses the whole batch with ERESTART if the ruleset changed since),
 * messages, NFNL_MSG_BATCH_END. */
typedef struct ngnft_batch ngnft_batch;

ngnft_batch* ngnft_batch_begin(int family, uint32_t genid, uint32_t seq);
void ngnft_batch_free(ngnft_batch* b);
/* NFT_MSG_NEWTABLE (create if missing). */
int ngnft_batch_new_table(ngnft_batch* b, const char* table, const void* def, size_t def_len);
/* NFT_MSG_NEWCHAIN (create if missing). def: a base chain's definition (or NULL); policy:
 * NF_ACCEPT/NF_DROP for a base chain, -1 to leave it. */
int ngnft_batch_new_chain(ngnft_batch* b, const char* table, const char* chain, const void* def,
                          size_t def_len, int policy);
/* NFT_MSG_DELRULE of every rule in the chain. */
int ngnft_batch_flush_chain(ngnft_batch* b, const char* table, const char* chain);
/* NFT_MSG_DELRULE of one rule. */
int ngnft_batch_del_rule(ngnft_batch* b, const char* table, const char* chain, uint64_t handle);
/* NFT_MSG_NEWRULE: at the end of the chain, at its head, or right after the rule `anchor`. */
enum { NGNFT_AT_END = 0, NGNFT_AT_HEAD = 1, NGNFT_AFTER = 2 };
int ngnft_batch_new_rule(ngnft_batch* b, const char* table, const char* chain, const void* attrs,
                         size_t attrs_len, int where, uint64_t anchor);
/* A batch for a table of any family: nfproto is the raw NFPROTO_* value (native tables). */
ngnft_batch* ngnft_batch_begin_nfproto(uint8_t nfproto, uint32_t genid, uint32_t seq);
/* Any nftables message (NFT_MSG_* type, NLM_F_* flags beyond NLM_F_REQUEST) whose attributes
 * are given whole; attrs must be a well-formed attribute run padded to 4 bytes. */
int ngnft_batch_put(ngnft_batch* b, int msg, uint16_t flags, const void* attrs, size_t len);
/* Closes the batch: the last message asks for an ack, then NFNL_MSG_BATCH_END. */
int ngnft_batch_end(ngnft_batch* b);
const void* ngnft_batch_data(const ngnft_batch* b, size_t* len);
/* Messages between BEGIN and END. */
size_t ngnft_batch_messages(const ngnft_batch* b);

/* What the kernel answered to a batch, fed reply by reply (pure, for tests). */
typedef struct ngnft_acks {
  uint32_t begin_seq;
  uint32_t last_seq;
  int done;         /* the verdict is complete */
  int error;        /* first error (-errno), 0 if none */
  int failed_index; /* message the error was about (0-based after BEGIN); -1: the whole batch */
} ngnft_acks;
void ngnft_acks_init(ngnft_acks* a, const ngnft_batch* b);
int ngnft_parse_acks(const void* buf, size_t len, ngnft_acks* a);

/* Sends a closed batch and waits (at most timeout_ms) for the kernel's verdict. Returns 0 when
 * the transaction committed, -ERESTART when the generation moved, or the first error with
 * *failed_index saying which message it was about (-1: the whole batch). Nothing is applied
 * unless 0 is returned. */
int ngnft_batch_send(ngnft_sock* s, const ngnft_batch* b, int timeout_ms, int* failed_index);

#ifdef __cplusplus
}
#endif

#endif
