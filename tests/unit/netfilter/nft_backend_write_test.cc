// NftBackend::write's choice of path and its fallbacks, without a kernel: a plan the netlink
// batch cannot express (no paired read) goes through iptables-nft-restore in the same write and
// says why; the config switch and WriteOptions::fast force the tools; a refused restore is
// reported as the tools' failure. No netlink socket is opened on these paths.
#include <gtest/gtest.h>

#include "netfilter/nft/nft_backend.h"
#include "netfilter/repair_plan.h"
#include "netfilter/save_codec.h"
#include "tests/fakes/fake_process_runner.h"

namespace ng::netfilter {
namespace {

TablePlan one_chain_plan() {
  TablePlan plan;
  plan.table = "nat";
  ChainWrite c;
  c.name = "CNI-HOSTPORT-DNAT";
  c.create = true;
  auto t = parse_table(
      "*nat\n:CNI-HOSTPORT-DNAT - [0:0]\n"
      "-A CNI-HOSTPORT-DNAT -p tcp -m multiport --dports 8080 -j RETURN\nCOMMIT\n",
      "nat");
  EXPECT_TRUE(t.ok());
  c.rules = t->chains.back().rules;
  plan.chains.push_back(std::move(c));
  return plan;
}

struct Written {
  testing::FakeProcessRunner runner;
  std::vector<core::ProcessRequest> restores() const {
    std::vector<core::ProcessRequest> out;
    for (const auto& r : runner.requests()) {
      if (!r.argv.empty() && r.argv[0].find("-nft-restore") != std::string::npos) {
        out.push_back(r);
      }
    }
    return out;
  }
};

TEST(NftBackendWrite, WithoutAPairedReadTheBatchDeclinesAndTheToolsWrite) {
  Written w;
  NftBackend b(w.runner);
  const TablePlan plan = one_chain_plan();
  WriteReport r = b.write(Family::kIPv6, plan, WriteOptions{});
  ASSERT_TRUE(r.status.ok()) << r.status.error().message;
  EXPECT_EQ(r.path, WritePath::kRestore);
  EXPECT_NE(r.fast_declined.find("no netlink view"), std::string::npos) << r.fast_declined;
  EXPECT_TRUE(r.fast_failed.empty());
  auto restores = w.restores();
  ASSERT_EQ(restores.size(), 1u);
  EXPECT_EQ(restores[0].argv, (std::vector<std::string>{"ip6tables-nft-restore", "--noflush"}));
  EXPECT_EQ(restores[0].stdin_data, render_restore(plan));
}

TEST(NftBackendWrite, ConfigSwitchOffMeansTheToolsWithNothingDeclined) {
  Written w;
  NftBackend::Options o;
  o.fast_path = false;
  NftBackend b(w.runner, o);
  WriteReport r = b.write(Family::kIPv4, one_chain_plan(), WriteOptions{});
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.path, WritePath::kRestore);
  EXPECT_TRUE(r.fast_declined.empty());
  ASSERT_EQ(w.restores().size(), 1u);
  EXPECT_EQ(w.restores()[0].argv[0], "iptables-nft-restore");
  EXPECT_EQ(b.kernel_view(Family::kIPv4, "nat"), nullptr);
}

TEST(NftBackendWrite, ToolsOnlyWriteIsNotAFastPathDecline) {
  // The guard's redo after a batch that did not verify, and its last retry, ask for the tools.
  Written w;
  NftBackend b(w.runner);
  WriteReport r = b.write(Family::kIPv4, one_chain_plan(), WriteOptions{false});
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.path, WritePath::kRestore);
  EXPECT_TRUE(r.fast_declined.empty());
  EXPECT_TRUE(r.fast_failed.empty());
  EXPECT_EQ(w.restores().size(), 1u);
}

TEST(NftBackendWrite, RefusedRestoreIsTheWritesError) {
  Written w;
  w.runner.set_handler([](const core::ProcessRequest&) -> core::Result<core::ProcessResult> {
    return core::ProcessResult{1, "", "iptables-nft-restore: line 3 failed"};
  });
  NftBackend b(w.runner);
  WriteReport r = b.write(Family::kIPv4, one_chain_plan(), WriteOptions{});
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(r.path, WritePath::kRestore);
  EXPECT_NE(r.status.error().message.find("line 3 failed"), std::string::npos)
      << r.status.error().message;
  EXPECT_FALSE(r.fast_declined.empty());  // why the batch was not tried
  // commit() is write() with the defaults.
  EXPECT_FALSE(b.commit(Family::kIPv4, one_chain_plan()).ok());
}

TEST(NftBackendWrite, FaultHookComesOnlyFromItsVariable) {
  ::unsetenv("NG_TEST_NFT_FAST_PATH_FAULT");
  EXPECT_EQ(NftBackend::fault_from_env(), NftBackend::Fault::kNone);
  ::setenv("NG_TEST_NFT_FAST_PATH_FAULT", "refuse", 1);
  EXPECT_EQ(NftBackend::fault_from_env(), NftBackend::Fault::kRefuse);
  ::setenv("NG_TEST_NFT_FAST_PATH_FAULT", "mismatch", 1);
  EXPECT_EQ(NftBackend::fault_from_env(), NftBackend::Fault::kMismatch);
  ::setenv("NG_TEST_NFT_FAST_PATH_FAULT", "bogus", 1);
  EXPECT_EQ(NftBackend::fault_from_env(), NftBackend::Fault::kNone);
  ::unsetenv("NG_TEST_NFT_FAST_PATH_FAULT");
}

}  // namespace
}  // namespace ng::netfilter
