/* The order a native table's messages go into its restore batch (pure; C, with the wire). */
#pragma once

#include <stddef.h>

#include "netfilter/nft/nft_table_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything but the anonymous sets keeps the dump's order (chains, objects, flowtables,
 * named sets and their elements, rules); each anonymous set and its elements move to right
 * before the first rule that names it, as nft itself sends them. Why: the kernel walks the
 * whole transaction so far each time a rule binds an anonymous set (__nft_set_trans_bind), so
 * with kube-proxy's one verdict map per service, binding them late made the restore quadratic
 * (half its kernel time at 1,000 services). Anonymous sets no rule names go last.
 * Returns 0 with *order (n indices into msgs, free() it), -EINVAL or -ENOMEM. */
int ngnft_restore_order(const ngnft_tmsg* msgs, size_t n, size_t** order);

#ifdef __cplusplus
}
#endif
