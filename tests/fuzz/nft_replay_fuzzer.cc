// Fuzz target `fuzz_nft_replay`: the nft fast path's netlink parsers and builders. A dump reply
// comes from the kernel and a blob from a snapshot file on disk: parsing must never crash, and
// whatever parses must plan and encode into a batch, and read as a table from the dump alone,
// without crashing either.
#include <cstddef>
#include <cstdint>
#include <string>

#include "netfilter/nft/nft_replay.h"
#include "netfilter/nft/nft_replay_wire.h"
#include "netfilter/nft/nft_rule_texts.h"

using namespace ng::netfilter;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  for (Family f : {Family::kIPv4, Family::kIPv6}) {
    NftKernelTable k = parse_nft_dump({bytes}, f, "nat");
    // Rewrite every rule the dump held into a plan and a batch.
    TablePlan plan;
    plan.table = "nat";
    for (const auto& c : k.chains) {
      if (c.base) continue;
      ChainWrite w;
      w.name = c.name.empty() ? "X" : c.name;
      for (const auto& r : c.rules) {
        Rule rule;
        rule.spec = "-j RETURN";
        rule.blob = nft_rule_blob(r.attrs);
        w.rules.push_back(rule);
      }
      plan.chains.push_back(w);
    }
    // A read built from the dump alone, with the texts learned from this same dump.
    NftRuleTexts texts;
    Table learned;
    learned.name = "nat";
    for (const auto& c : plan.chains) {
      Chain ch;
      ch.name = c.name;
      ch.rules = c.rules;
      learned.chains.push_back(ch);
    }
    texts.learn(learned);
    (void)texts.table_from_dump(k);
    NftTableDefs defs;
    remember_defs(defs, k);
    NftBatchPlan b = plan_nft_batch(plan, k, defs);
    ngnft_batch* batch = ngnft_batch_begin(4, 1, 1);
    for (const auto& op : b.ops) {
      if (op.kind == NftBatchOp::Kind::kNewRule) {
        (void)ngnft_batch_new_rule(batch, "nat", op.chain.c_str(), op.attrs.data(), op.attrs.size(),
                                   NGNFT_AT_END, 0);
      } else if (op.kind == NftBatchOp::Kind::kNewChain) {
        (void)ngnft_batch_new_chain(batch, "nat", op.chain.c_str(), op.attrs.data(),
                                    op.attrs.size(), op.policy);
      }
    }
    if (ngnft_batch_messages(batch) > 0) (void)ngnft_batch_end(batch);
    ngnft_batch_free(batch);
  }
  (void)nft_blob_attrs(bytes);
  ngnft_batch* b = ngnft_batch_begin(4, 1, 1);
  (void)ngnft_batch_flush_chain(b, "nat", "X");
  (void)ngnft_batch_end(b);
  ngnft_acks acks;
  ngnft_acks_init(&acks, b);
  (void)ngnft_parse_acks(data, size, &acks);
  ngnft_batch_free(b);
  return 0;
}
