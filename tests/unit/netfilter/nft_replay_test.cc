// The nft fast path's pure parts against bytes captured from the real kernel
// (data/nft-<family>-<table>.{save,hex}, made by data/capture-nft-dump.sh): pairing the saved
// text with the dump, the blobs, batch planning and message encoding, and reply parsing.
#include "netfilter/nft/nft_replay.h"

#include <gtest/gtest.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <cstring>
#include <sstream>

#include "netfilter/guard_policy.h"
#include "netfilter/nft/nft_replay_wire.h"
#include "netfilter/repair_plan.h"
#include "netfilter/save_codec.h"
#include "tests/unit/netfilter/guard_fixture.h"
#include "tests/unit/netfilter/nft_capture.h"
#include "tests/unit/netfilter/test_data.h"

namespace ng::netfilter {
namespace {

using testing::nft_hex_replies;

std::string unhex(std::string_view hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    if (hex[i] == ' ') {
      --i;
      continue;
    }
    bytes.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return bytes;
}

using Captured = testing::NftCapture;

Captured captured(const std::string& family, const std::string& table) {
  return testing::nft_capture(family, table);
}

Rule* find_rule(Table& t, const std::string& chain, const std::string& needle) {
  Chain* c = t.find(chain);
  if (!c) return nullptr;
  for (auto& r : c->rules) {
    if (r.spec.find(needle) != std::string::npos) return &r;
  }
  return nullptr;
}

ngnft_rule_summary summary(std::string_view attrs) {
  ngnft_rule_summary out;
  EXPECT_EQ(ngnft_rule_attrs_summary(attrs.data(), attrs.size(), &out), 0);
  return out;
}

// NFTA_RULE_COMPAT of a rule's attributes: {proto, flags}, or {-1, -1}.
std::pair<int, int> compat_of(std::string_view attrs) {
  const auto s = summary(attrs);
  if (!s.has_compat) return {-1, -1};
  return {static_cast<int>(s.compat_proto), static_cast<int>(s.compat_flags)};
}

class NftReplayCapture : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(NftReplayCapture, EverySavedRulePairsWithTheKernelEncoding) {
  auto c = captured(GetParam().first, GetParam().second);
  ASSERT_TRUE(c.kernel.exists);
  EXPECT_TRUE(c.kernel.unaligned.empty()) << c.kernel.unaligned.front();
  size_t rules = 0;
  for (const auto& chain : c.text.chains) {
    const NftKernelChain* kc = c.kernel.find(chain.name);
    if (!kc) {
      EXPECT_TRUE(chain.builtin() && chain.rules.empty()) << chain.name;
      continue;
    }
    EXPECT_TRUE(kc->aligned) << chain.name;
    EXPECT_EQ(kc->base, chain.builtin()) << chain.name;
    if (kc->base) {
      EXPECT_FALSE(kc->def.empty()) << chain.name;
    }
    for (const auto& r : chain.rules) {
      ++rules;
      auto attrs = nft_blob_attrs(r.blob);
      ASSERT_TRUE(attrs) << chain.name << " " << r.spec;
      EXPECT_TRUE(ngnft_rule_attrs_valid(attrs->data(), attrs->size()));
    }
  }
  EXPECT_GT(rules, 5u);
}

INSTANTIATE_TEST_SUITE_P(
    Tables, NftReplayCapture,
    ::testing::Values(std::make_pair("ipv4", "nat"), std::make_pair("ipv4", "filter"),
                      std::make_pair("ipv6", "nat"), std::make_pair("ipv6", "filter")),
    [](const auto& info) { return std::string(info.param.first) + "_" + info.param.second; });

TEST(NftReplay, CountersAreZeroedInTheBlobs) {
  auto c = captured("ipv4", "nat");
  uint64_t counted = 0;
  for (const auto& chain : c.kernel.chains) {
    for (const auto& r : chain.rules) {
      counted += r.packets;
      const auto s = summary(r.attrs);
      EXPECT_GT(s.expressions, 0);
      EXPECT_EQ(s.counter_packets, 0u) << chain.name;
      EXPECT_EQ(s.counter_bytes, 0u) << chain.name;
    }
  }
  // The capture saw traffic (capture-nft-dump.sh): the kernel's counters were not zero.
  EXPECT_GT(counted, 0u);
}

TEST(NftReplay, CompatIsRebuiltFromTheProtocolMatch) {
  auto c = captured("ipv4", "nat");
  Rule* mp = find_rule(c.text, "KUBE-MISC", "-m multiport");
  Rule* neg = find_rule(c.text, "KUBE-MISC", "! -p tcp -m comment");
  Rule* go = find_rule(c.text, "KUBE-EXT-QKDW4NIGFXTFVTAA", "-g ");
  ASSERT_TRUE(mp && neg && go);
  EXPECT_EQ(compat_of(*nft_blob_attrs(mp->blob)), std::make_pair(17, 0));
  EXPECT_EQ(compat_of(*nft_blob_attrs(neg->blob)), std::make_pair(6, int(NFT_RULE_COMPAT_F_INV)));
  EXPECT_EQ(compat_of(*nft_blob_attrs(go->blob)), std::make_pair(-1, -1));  // no xt, no -p
  auto c6 = captured("ipv6", "nat");
  Rule* mp6 = find_rule(c6.text, "KUBE-MISC", "-m multiport");
  ASSERT_TRUE(mp6);
  EXPECT_EQ(compat_of(*nft_blob_attrs(mp6->blob)), std::make_pair(17, 0));
}

TEST(NftReplay, JumpsGotosAndVerdictsAreRead) {
  auto c = captured("ipv4", "nat");
  const NftKernelChain* ext = c.kernel.find("KUBE-EXT-QKDW4NIGFXTFVTAA");
  ASSERT_TRUE(ext && ext->rules.size() == 2);
  EXPECT_EQ(ext->rules[0].verdict, NGNFT_VERDICT_JUMP);
  EXPECT_EQ(ext->rules[0].verdict_chain, "KUBE-MARK-MASQ");
  EXPECT_EQ(ext->rules[1].verdict, NGNFT_VERDICT_GOTO);
  EXPECT_EQ(ext->rules[1].verdict_chain, "KUBE-SVC-TCOU7JCQXEZGVUNU");
  const NftKernelChain* post = c.kernel.find("KUBE-POSTROUTING");
  ASSERT_TRUE(post && !post->rules.empty());
  EXPECT_EQ(post->rules[0].verdict, NGNFT_VERDICT_RETURN);
  EXPECT_EQ(c.kernel.find("PREROUTING")->policy, NF_ACCEPT);
}

TEST(NftReplay, ChainsThatDoNotLineUpKeepNoBlobs) {
  auto c = captured("ipv4", "nat");
  Table text = *parse_table(testing::netfilter_data("nft-ipv4-nat.save"), "nat");
  // One rule fewer in KUBE-MISC; KUBE-EXT jumps elsewhere; a comment that differs.
  text.find("KUBE-MISC")->rules.pop_back();
  Rule* go = find_rule(text, "KUBE-EXT-QKDW4NIGFXTFVTAA", "-g ");
  go->spec = "-g KUBE-MARK-MASQ";
  ASSERT_TRUE(parse_rule_fields(*go).ok());
  Rule* sep = find_rule(text, "KUBE-SVC-TCOU7JCQXEZGVUNU", "statistic");
  sep->comment = "something else";
  NftKernelTable k = c.kernel;
  attach_nft_blobs(text, k);
  EXPECT_EQ(k.unaligned.size(), 3u);
  for (const char* name : {"KUBE-MISC", "KUBE-EXT-QKDW4NIGFXTFVTAA", "KUBE-SVC-TCOU7JCQXEZGVUNU"}) {
    EXPECT_FALSE(k.find(name)->aligned) << name;
    for (const auto& r : text.find(name)->rules) EXPECT_TRUE(r.blob.empty()) << name;
  }
  EXPECT_TRUE(k.find("KUBE-MARK-MASQ")->aligned);
  EXPECT_FALSE(text.find("KUBE-MARK-MASQ")->rules[0].blob.empty());
}

TEST(NftReplay, BlobsAreCheckedBeforeUse) {
  auto c = captured("ipv4", "nat");
  const std::string& good = c.text.find("KUBE-MARK-MASQ")->rules[0].blob;
  EXPECT_TRUE(nft_blob_attrs(good));
  EXPECT_FALSE(nft_blob_attrs(""));
  EXPECT_FALSE(nft_blob_attrs("nft1"));
  EXPECT_FALSE(nft_blob_attrs(std::string("legacy") + good.substr(4)));
  EXPECT_FALSE(nft_blob_attrs(good.substr(0, good.size() - 3)));  // truncated
  std::string bad = good;
  bad[6] = '\x7f';  // first attribute's type
  EXPECT_FALSE(nft_blob_attrs(bad));
}

// What a flush leaves in the kernel: the table and its base chains, no rules, no user chains.
NftKernelTable flushed(const NftKernelTable& k) {
  NftKernelTable out = k;
  out.chains.clear();
  for (const auto& c : k.chains) {
    if (!c.base) continue;
    NftKernelChain b = c;
    b.rules.clear();
    b.aligned = true;
    out.chains.push_back(b);
  }
  return out;
}

Table flushed(const Table& t) {
  Table out = t;
  out.chains.clear();
  for (const auto& c : t.chains) {
    if (!c.builtin()) continue;
    Chain b = c;
    b.rules.clear();
    out.chains.push_back(b);
  }
  return out;
}

TEST(NftReplay, FlushRepairIsOneBatchOfTheSavedEncodings) {
  auto c = captured("ipv4", "nat");
  const GuardPolicy policy = testing::default_guard_policy();
  const Table expected = policy.project(c.text);
  const TablePlan plan = plan_repair(expected, flushed(c.text), policy, false);
  ASSERT_FALSE(plan.empty());
  NftTableDefs defs;
  remember_defs(defs, c.kernel);
  NftBatchPlan b = plan_nft_batch(plan, flushed(c.kernel), defs);
  ASSERT_TRUE(b.declined.empty()) << b.declined;
  size_t chains = 0, rules = 0, head = 0;
  for (const auto& op : b.ops) {
    chains += op.kind == NftBatchOp::Kind::kNewChain;
    rules += op.kind == NftBatchOp::Kind::kNewRule;
    head += op.kind == NftBatchOp::Kind::kNewRule && op.where == NftBatchOp::Where::kHead;
    EXPECT_NE(op.kind, NftBatchOp::Kind::kFlushChain);  // nothing left to flush
  }
  EXPECT_EQ(chains, plan.chains.size());
  EXPECT_EQ(rules, plan.rules_written());
  EXPECT_GT(head, 0u);  // jumps into an emptied built-in chain go to its head
  // Chains come before the rules that jump to them.
  EXPECT_EQ(b.ops.front().kind, NftBatchOp::Kind::kNewChain);
  // Each rule is the kernel's own encoding of the saved rule.
  for (const auto& op : b.ops) {
    if (op.kind != NftBatchOp::Kind::kNewRule || op.where != NftBatchOp::Where::kEnd) continue;
    const NftKernelChain* kc = c.kernel.find(op.chain);
    ASSERT_TRUE(kc);
    bool found = false;
    for (const auto& r : kc->rules) found = found || r.attrs == op.attrs;
    EXPECT_TRUE(found) << op.what;
  }
}

TEST(NftReplay, AMissingJumpGoesRightAfterItsNeighbourByHandle) {
  auto c = captured("ipv4", "nat");
  const GuardPolicy policy = testing::default_guard_policy();
  const Table expected = policy.project(c.text);
  // The second rule of PREROUTING is gone, in the text and in the kernel.
  Table current = c.text;
  NftKernelTable kernel = c.kernel;
  ASSERT_GE(current.find("PREROUTING")->rules.size(), 2u);
  const std::string gone = current.find("PREROUTING")->rules[1].spec;
  current.find("PREROUTING")->rules.erase(current.find("PREROUTING")->rules.begin() + 1);
  auto& kpre = kernel.find("PREROUTING")->rules;
  kpre.erase(kpre.begin() + 1);
  const TablePlan plan = plan_repair(expected, current, policy, false);
  ASSERT_EQ(plan.edits.size(), 1u);
  ASSERT_TRUE(plan.chains.empty());
  NftBatchPlan b = plan_nft_batch(plan, kernel, NftTableDefs{});
  ASSERT_TRUE(b.declined.empty()) << b.declined;
  ASSERT_EQ(b.ops.size(), 1u);
  EXPECT_EQ(b.ops[0].kind, NftBatchOp::Kind::kNewRule);
  EXPECT_EQ(b.ops[0].where, NftBatchOp::Where::kAfter);
  EXPECT_EQ(b.ops[0].handle, kpre[0].handle);
  EXPECT_EQ(b.ops[0].attrs, *nft_blob_attrs(c.text.find("PREROUTING")->rules[1].blob));
  EXPECT_NE(b.ops[0].what.find(gone), std::string::npos);
}

TEST(NftReplay, DeletesGoByHandleAndCheckTheRule) {
  auto c = captured("ipv4", "nat");
  TablePlan plan;
  plan.table = "nat";
  BuiltinEdit del;
  del.op = BuiltinEdit::Op::kDelete;
  del.chain = "PREROUTING";
  del.position = 1;
  del.rule = c.text.find("PREROUTING")->rules[0];
  plan.edits.push_back(del);
  NftBatchPlan b = plan_nft_batch(plan, c.kernel, NftTableDefs{});
  ASSERT_TRUE(b.declined.empty()) << b.declined;
  ASSERT_EQ(b.ops.size(), 1u);
  EXPECT_EQ(b.ops[0].kind, NftBatchOp::Kind::kDeleteRule);
  EXPECT_EQ(b.ops[0].handle, c.kernel.find("PREROUTING")->rules[0].handle);
  // The kernel holds another rule at that position than the plan means: declined.
  plan.edits[0].rule = c.text.find("PREROUTING")->rules[1];
  EXPECT_NE(plan_nft_batch(plan, c.kernel, NftTableDefs{}).declined, "");
}

TEST(NftReplay, DeclinesWhatTheBatchCannotExpress) {
  auto c = captured("ipv4", "nat");
  const GuardPolicy policy = testing::default_guard_policy();
  const Table expected = policy.project(c.text);
  NftTableDefs defs;
  remember_defs(defs, c.kernel);
  TablePlan plan = plan_repair(expected, flushed(c.text), policy, false);

  TablePlan text_only = plan;  // a rule only known as text (an expected-rules provider's)
  text_only.chains[0].rules.push_back(Rule{"-j RETURN", "", "", "RETURN", false, ""});
  EXPECT_NE(plan_nft_batch(text_only, flushed(c.kernel), defs).declined.find("no kernel encoding"),
            std::string::npos);

  NftKernelTable gone;  // the whole table deleted (nft flush ruleset)
  gone.name = "nat";
  EXPECT_NE(plan_nft_batch(plan, gone, NftTableDefs{}).declined.find("never read"),
            std::string::npos);
  NftBatchPlan recreate = plan_nft_batch(plan, gone, defs);
  ASSERT_TRUE(recreate.declined.empty()) << recreate.declined;
  EXPECT_EQ(recreate.ops[0].kind, NftBatchOp::Kind::kNewTable);
  size_t base = 0;
  for (const auto& op : recreate.ops) {
    if (op.kind == NftBatchOp::Kind::kNewChain && !op.attrs.empty()) {
      ++base;
      EXPECT_EQ(op.attrs, c.kernel.find(op.chain)->def);
      EXPECT_EQ(op.policy, NF_ACCEPT);
    }
  }
  EXPECT_GE(base, 2u);  // PREROUTING, OUTPUT, POSTROUTING hold jumps

  NftKernelTable unaligned = flushed(c.kernel);
  unaligned.find("PREROUTING")->aligned = false;
  EXPECT_NE(plan_nft_batch(plan, unaligned, defs).declined.find("did not line up"),
            std::string::npos);
}

TEST(NftReplay, PoliciesAreSetOnTheBaseChain) {
  auto c = captured("ipv4", "filter");
  TablePlan plan;
  plan.table = "filter";
  plan.policies.push_back({"FORWARD", "ACCEPT"});
  NftBatchPlan b = plan_nft_batch(plan, c.kernel, NftTableDefs{});
  ASSERT_TRUE(b.declined.empty()) << b.declined;
  ASSERT_EQ(b.ops.size(), 1u);
  EXPECT_EQ(b.ops[0].kind, NftBatchOp::Kind::kNewChain);
  EXPECT_EQ(b.ops[0].chain, "FORWARD");
  EXPECT_EQ(b.ops[0].policy, NF_ACCEPT);
  EXPECT_TRUE(b.ops[0].attrs.empty());
}

std::string batch_bytes(ngnft_batch* b) {
  size_t len = 0;
  const void* p = ngnft_batch_data(b, &len);
  return std::string(static_cast<const char*>(p), len);
}

TEST(NftReplayWire, BatchBytesAreExactlyWhatTheKernelExpects) {
  ngnft_batch* b = ngnft_batch_begin(4, 0x01020304, 1);
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(ngnft_batch_flush_chain(b, "nat", "X"), 0);
  ASSERT_EQ(ngnft_batch_end(b), 0);
  // BEGIN (res_id = NFNL_SUBSYS_NFTABLES, NFNL_BATCH_GENID), DELRULE nat/X asking for the
  // ack, END. Little-endian host.
  const std::string want = unhex(
      "1c000000 1000 0100 01000000 00000000 0000000a 0800 0100 01020304"
      "24000000 080a 0500 02000000 00000000 02000000 0800 0100 6e617400 0600 0200 58000000"
      "14000000 1100 0100 03000000 00000000 0000000a");
  auto hex = [](const std::string& s) {
    std::string out;
    char buf[3];
    for (unsigned char ch : s) {
      std::snprintf(buf, sizeof(buf), "%02x", ch);
      out += buf;
    }
    return out;
  };
  EXPECT_EQ(hex(batch_bytes(b)), hex(want));
  EXPECT_EQ(ngnft_batch_messages(b), 1u);
  ngnft_batch_free(b);
}

TEST(NftReplayWire, RuleMessagesCarryTheAttributesVerbatim) {
  auto c = captured("ipv4", "nat");
  const NftKernelRule& r = c.kernel.find("KUBE-MARK-MASQ")->rules[0];
  ngnft_batch* b = ngnft_batch_begin(4, 7, 100);
  ASSERT_EQ(ngnft_batch_new_chain(b, "nat", "KUBE-MARK-MASQ", nullptr, 0, -1), 0);
  ASSERT_EQ(ngnft_batch_new_rule(b, "nat", "KUBE-MARK-MASQ", r.attrs.data(), r.attrs.size(),
                                 NGNFT_AT_END, 0),
            0);
  ASSERT_EQ(ngnft_batch_new_rule(b, "nat", "PREROUTING", r.attrs.data(), r.attrs.size(),
                                 NGNFT_AFTER, 0x1122334455667788ull),
            0);
  // Junk is refused before it reaches the kernel.
  EXPECT_EQ(ngnft_batch_new_rule(b, "nat", "X", "\x01\x02\x03", 3, NGNFT_AT_END, 0), -EINVAL);
  EXPECT_EQ(ngnft_batch_new_chain(b, "nat", "", nullptr, 0, -1), -EINVAL);
  ASSERT_EQ(ngnft_batch_end(b), 0);
  const std::string bytes = batch_bytes(b);
  EXPECT_EQ(ngnft_batch_messages(b), 3u);
  // Walk the messages.
  std::vector<const struct nlmsghdr*> msgs;
  for (size_t at = 0; at < bytes.size();) {
    const auto* nlh = reinterpret_cast<const struct nlmsghdr*>(bytes.data() + at);
    msgs.push_back(nlh);
    at += (nlh->nlmsg_len + 3u) & ~3u;
  }
  ASSERT_EQ(msgs.size(), 5u);
  EXPECT_EQ(msgs[1]->nlmsg_type, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWCHAIN);
  EXPECT_EQ(msgs[2]->nlmsg_type, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE);
  EXPECT_TRUE(msgs[2]->nlmsg_flags & NLM_F_APPEND);
  EXPECT_FALSE(msgs[2]->nlmsg_flags & NLM_F_ACK);
  EXPECT_TRUE(msgs[3]->nlmsg_flags & NLM_F_ACK);  // the last one before END
  EXPECT_EQ(msgs[4]->nlmsg_type, NFNL_MSG_BATCH_END);
  const std::string m2(reinterpret_cast<const char*>(msgs[2]), msgs[2]->nlmsg_len);
  EXPECT_NE(m2.find(r.attrs), std::string::npos);
  const std::string m3(reinterpret_cast<const char*>(msgs[3]), msgs[3]->nlmsg_len);
  EXPECT_NE(m3.find(unhex("0c00 0600 1122334455667788")), std::string::npos);  // POSITION
  ngnft_batch_free(b);
}

std::string ack(uint32_t seq, int error) {
  std::string buf(NLMSG_HDRLEN + sizeof(struct nlmsgerr), '\0');
  auto* nlh = reinterpret_cast<struct nlmsghdr*>(buf.data());
  nlh->nlmsg_len = static_cast<uint32_t>(buf.size());
  nlh->nlmsg_type = NLMSG_ERROR;
  nlh->nlmsg_seq = seq;
  auto* e = reinterpret_cast<struct nlmsgerr*>(buf.data() + NLMSG_HDRLEN);
  e->error = error;
  e->msg.nlmsg_seq = seq;
  return buf;
}

TEST(NftReplayWire, RepliesSayWhetherTheBatchCommitted) {
  ngnft_batch* b = ngnft_batch_begin(4, 7, 10);  // BEGIN 10, messages 11..13, END 14
  for (const char* c : {"A", "B", "C"}) ASSERT_EQ(ngnft_batch_flush_chain(b, "nat", c), 0);
  ASSERT_EQ(ngnft_batch_end(b), 0);
  ngnft_acks a;

  ngnft_acks_init(&a, b);
  std::string r = ack(13, 0);
  ASSERT_EQ(ngnft_parse_acks(r.data(), r.size(), &a), 0);
  EXPECT_TRUE(a.done);
  EXPECT_EQ(a.error, 0);

  ngnft_acks_init(&a, b);  // message 12 refused, then the last one's ack
  r = ack(12, -ENOENT) + ack(13, 0);
  ASSERT_EQ(ngnft_parse_acks(r.data(), r.size(), &a), 0);
  EXPECT_TRUE(a.done);
  EXPECT_EQ(a.error, -ENOENT);
  EXPECT_EQ(a.failed_index, 1);

  ngnft_acks_init(&a, b);  // the generation moved: the whole batch
  r = ack(10, -ERESTART);
  ASSERT_EQ(ngnft_parse_acks(r.data(), r.size(), &a), 0);
  EXPECT_TRUE(a.done);
  EXPECT_EQ(a.error, -ERESTART);
  EXPECT_EQ(a.failed_index, -1);

  ngnft_acks_init(&a, b);  // not done yet
  r = ack(11, 0);
  ASSERT_EQ(ngnft_parse_acks(r.data(), r.size(), &a), 0);
  EXPECT_FALSE(a.done);

  ngnft_acks_init(&a, b);
  r = ack(13, 0);
  r.resize(r.size() - 6);  // truncated
  EXPECT_EQ(ngnft_parse_acks(r.data(), r.size(), &a), -EINVAL);
  EXPECT_FALSE(a.done);
  ngnft_batch_free(b);
}

TEST(NftReplayWire, MalformedDumpsAreRejectedNotCrashed) {
  auto replies = nft_hex_replies("nft-ipv4-nat.hex");
  ASSERT_FALSE(replies.empty());
  NftDumpCollector c(Family::kIPv4, "nat");
  std::string junk(64, '\x7f');
  EXPECT_EQ(ngnft_parse_dump(junk.data(), junk.size(), NftDumpCollector::callbacks(), &c), -EINVAL);
  // Every truncation of a real reply: an error or fewer messages, never a crash.
  const std::string& big = replies.back();
  for (size_t n = 0; n < big.size(); n += 7) {
    NftDumpCollector t(Family::kIPv4, "nat");
    (void)ngnft_parse_dump(big.data(), n, NftDumpCollector::callbacks(), &t);
  }
  // A reply flagged as interrupted (the ruleset changed during the dump).
  std::string intr = replies.back();
  auto* nlh = reinterpret_cast<struct nlmsghdr*>(intr.data());
  nlh->nlmsg_flags |= NLM_F_DUMP_INTR;
  EXPECT_EQ(ngnft_parse_dump(intr.data(), intr.size(), NftDumpCollector::callbacks(), &c), -EINTR);
}

}  // namespace
}  // namespace ng::netfilter
