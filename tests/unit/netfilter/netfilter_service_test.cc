#include "agent/api/netfilter_service.h"

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>

#include <boost/asio/executor_work_guard.hpp>
#include <future>
#include <set>
#include <thread>

#include "agent/api/call_gate.h"
#include "agent/api/grpc_server.h"
#include "core/asio_clock.h"
#include "core/loop_call.h"
#include "tests/fakes/fake_files.h"
#include "tests/fakes/recording_health_sink.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/netfilter/guard_fixture.h"

namespace ng::agent {
namespace {

using namespace std::chrono_literals;
using netfilter::Family;

// A real gRPC server on a temp unix socket over a Guard on the fake backend, the loop on its
// own thread and a real worker pool, as in the agent.
class NetfilterServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_ = std::make_shared<testing::FakeNetfilterBackend>();
    fake_->load(Family::kIPv4, testing::netfilter_data("cni-nft-ipv4.save"));
    netfilter::GuardOptions o;
    o.backend_mode = "nft";
    o.families = {Family::kIPv4};
    o.policy = testing::default_guard_policy();
    o.lock_path = dir_ / "xtables.lock";
    o.drift_grace = 0s;
    guard_ = std::make_unique<netfilter::Guard>(
        o, std::vector<std::shared_ptr<netfilter::Backend>>{fake_},
        netfilter::Guard::Deps{clock_, loop_, workers_, files_, health_, env_, metrics_,
                               core::Logger::discard()});
    config_.grpc_socket = dir_ / "api.sock";
    service_ = std::make_unique<NetfilterService>(loop_, *guard_);
    server_ = std::make_unique<GrpcServer>(config_, gate_, core::Logger::discard());
    server_->add_service(service_.get());
    ASSERT_TRUE(server_->start());
    // Ready when the guard has finished its first check of both tables, canary chain created
    // (reads and the setup commit run on the workers, one table after the other; waiting for
    // the first table alone raced with the second under load): a listener says so, no polling.
    std::promise<void> looked;
    guard_->add_table_listener([&looked, ready = std::set<std::string>(),
                                done = false](const netfilter::TableView& v) mutable {
      if (v.state == "ok" && v.canary_present) ready.insert(v.key.table);
      if (!done && ready.size() == 2) {
        done = true;
        looked.set_value();
      }
    });
    loop_thread_ = std::thread([this] { io_.run(); });
    core::call_on_loop(
        io_,
        [this] {
          guard_->start();
          return true;
        },
        2s);
    ASSERT_EQ(looked.get_future().wait_for(10s), std::future_status::ready)
        << "the guard never read its table";
    channel_ =
        grpc::CreateChannel("unix://" + config_.grpc_socket, grpc::InsecureChannelCredentials());
    stub_ = nodeguard::v1::Netfilter::NewStub(channel_);
  }
  void TearDown() override {
    server_->shutdown(1s);
    core::call_on_loop(
        io_,
        [this] {
          guard_->stop();
          return true;
        },
        2s);
    workers_.join();
    work_.reset();
    io_.stop();
    loop_thread_.join();
  }
  grpc::Status list(const nodeguard::v1::ListRulesRequest& req,
                    nodeguard::v1::ListRulesResponse* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    return stub_->ListRules(&ctx, req, resp);
  }
  grpc::Status repair(const nodeguard::v1::RepairRequest& req,
                      nodeguard::v1::RepairResponse* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    return stub_->Repair(&ctx, req, resp);
  }
  grpc::Status forget(const nodeguard::v1::ForgetRequest& req,
                      nodeguard::v1::ForgetResponse* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    return stub_->Forget(&ctx, req, resp);
  }

  testing::TempDir dir_;
  AgentConfig config_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  core::AsioClock clock_{io_};
  core::IoContextExecutor loop_{io_};
  core::WorkerPool workers_{2};
  testing::FakeFiles files_;
  testing::RecordingHealthSink health_;
  prometheus::Registry metrics_;
  core::EnvErrorReporter env_{metrics_, core::Logger::discard()};
  CallGate gate_{config_.api, clock_, metrics_};
  std::shared_ptr<testing::FakeNetfilterBackend> fake_;
  std::unique_ptr<netfilter::Guard> guard_;
  std::unique_ptr<NetfilterService> service_;
  std::unique_ptr<GrpcServer> server_;
  std::thread loop_thread_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<nodeguard::v1::Netfilter::Stub> stub_;
};

TEST_F(NetfilterServiceTest, ListRulesShowsGuardedChainsAndState) {
  nodeguard::v1::ListRulesRequest req;
  req.set_table("nat");
  req.set_include_rules(true);
  nodeguard::v1::ListRulesResponse resp;
  ASSERT_TRUE(list(req, &resp).ok());
  EXPECT_EQ(resp.backend_mode(), "nft");
  ASSERT_EQ(resp.tables_size(), 1);
  const auto& t = resp.tables(0);
  EXPECT_EQ(t.backend(), "nft");
  EXPECT_EQ(t.family(), "ipv4");
  EXPECT_EQ(t.state(), "ok");
  EXPECT_TRUE(t.canary_present());
  EXPECT_EQ(t.guarded_chains(), 10u);
  bool found = false;
  for (const auto& c : t.chains()) {
    EXPECT_NE(c.name(), "NODEGUARD-CANARY");
    EXPECT_NE(c.name(), "KUBE-PROXY-CANARY");
    if (c.name() == "PREROUTING") {
      EXPECT_TRUE(c.builtin());
      EXPECT_EQ(c.guarded_rules(), 2u);  // the two jumps, not MY-OWN's
      ASSERT_EQ(c.rules_size(), 2);
      EXPECT_THAT(c.rules(1), ::testing::HasSubstr("-j CNI-HOSTPORT-DNAT"));
    }
    found = found || c.name() == "CNI-HOSTPORT-DNAT";
  }
  EXPECT_TRUE(found);
}

TEST_F(NetfilterServiceTest, BadFiltersAreInvalidArguments) {
  nodeguard::v1::ListRulesRequest req;
  req.set_backend("iptables");
  nodeguard::v1::ListRulesResponse resp;
  auto st = list(req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), ::testing::HasSubstr("legacy or nft"));
  nodeguard::v1::RepairRequest r;
  r.set_family("ipv5");
  nodeguard::v1::RepairResponse rr;
  EXPECT_EQ(repair(r, &rr).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(NetfilterServiceTest, RepairNeedsARunningGuard) {
  // Stop automatic repairs from racing the RPC: flush while the guard is stopped.
  core::call_on_loop(
      io_,
      [this] {
        guard_->stop();
        return true;
      },
      2s);
  fake_->flush_table(Family::kIPv4, "nat");
  core::call_on_loop(
      io_, [this] { return true; }, 2s);
  // Repair needs a running guard.
  nodeguard::v1::RepairRequest req;
  req.set_table("nat");
  req.set_dry_run(true);
  nodeguard::v1::RepairResponse resp;
  auto st = repair(req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(NetfilterServiceTest, RepairReportsWhatChanged) {
  nodeguard::v1::RepairRequest req;
  req.set_dry_run(true);
  nodeguard::v1::RepairResponse resp;
  ASSERT_TRUE(repair(req, &resp).ok());
  EXPECT_TRUE(resp.dry_run());
  ASSERT_GE(resp.tables_size(), 2);  // filter, mangle, nat
  for (const auto& t : resp.tables()) {
    EXPECT_TRUE(t.changes().empty()) << t.table();
    EXPECT_FALSE(t.committed());
  }
  // Delete one rule and ask for a real repair before the guard gets to it.
  ASSERT_TRUE(
      fake_->apply_restore(Family::kIPv4, "*nat\n-D CNI-DN-d3965bcbc3dd2fee4b494 3\nCOMMIT\n")
          .ok());
  req.set_dry_run(false);
  req.set_table("nat");
  nodeguard::v1::RepairResponse real;
  ASSERT_TRUE(repair(req, &real).ok());
  ASSERT_EQ(real.tables_size(), 1);
  EXPECT_TRUE(real.tables(0).error().empty()) << real.tables(0).error();
  auto t = fake_->table(Family::kIPv4, "nat");
  EXPECT_EQ(t->find("CNI-DN-d3965bcbc3dd2fee4b494")->rules.size(), 3u);
}

TEST_F(NetfilterServiceTest, ForgetDropsAChainOrARuleFromTheSnapshot) {
  nodeguard::v1::ForgetRequest req;
  req.set_table("nat");
  req.set_chain("KUBE-POSTROUTING");
  req.set_rule("-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0");
  nodeguard::v1::ForgetResponse resp;
  ASSERT_TRUE(forget(req, &resp).ok());
  ASSERT_EQ(resp.tables_size(), 1);
  EXPECT_EQ(resp.tables(0).backend(), "nft");
  ASSERT_EQ(resp.tables(0).removed_size(), 1);
  EXPECT_EQ(resp.tables(0).removed(0), "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0");
  // Again: nothing holds it any more.
  nodeguard::v1::ForgetResponse again;
  auto st = forget(req, &again);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(st.error_message(), ::testing::HasSubstr("KUBE-POSTROUTING"));
  // A whole chain with its jumps.
  req.set_chain("CNI-DN-d3965bcbc3dd2fee4b494");
  req.clear_rule();
  nodeguard::v1::ForgetResponse chain;
  ASSERT_TRUE(forget(req, &chain).ok());
  ASSERT_EQ(chain.tables_size(), 1);
  EXPECT_EQ(chain.tables(0).removed_size(), 2);
  // ListRules shows it gone.
  nodeguard::v1::ListRulesRequest lr;
  lr.set_table("nat");
  nodeguard::v1::ListRulesResponse lresp;
  ASSERT_TRUE(list(lr, &lresp).ok());
  for (const auto& c : lresp.tables(0).chains()) {
    EXPECT_NE(c.name(), "CNI-DN-d3965bcbc3dd2fee4b494");
  }
}

TEST_F(NetfilterServiceTest, ForgetRefusesBadRequests) {
  nodeguard::v1::ForgetResponse resp;
  nodeguard::v1::ForgetRequest req;
  req.set_chain("KUBE-SERVICES");
  EXPECT_EQ(forget(req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);  // no table
  req.set_table("nat");
  req.set_chain("");
  EXPECT_EQ(forget(req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  req.set_chain("PREROUTING");  // a built-in chain needs a rule
  auto st = forget(req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), ::testing::HasSubstr("built-in"));
  req.set_chain("NODEGUARD-CANARY");
  EXPECT_EQ(forget(req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  req.set_chain("bad name");
  EXPECT_EQ(forget(req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(NetfilterServiceTest, ListRulesShowsForeignRules) {
  ASSERT_TRUE(fake_
                  ->apply_restore(Family::kIPv4,
                                  "*nat\n-A KUBE-SERVICES -p tcp -m tcp --dport 81 -j DNAT "
                                  "--to-destination 10.0.0.9:80\nCOMMIT\n")
                  .ok());
  // A check on demand; a listener says when it saw the rule.
  auto seen = std::make_shared<std::promise<void>>();
  core::call_on_loop(
      io_,
      [this, seen] {
        guard_->add_table_listener([seen, done = false](const netfilter::TableView& v) mutable {
          if (!done && v.key.table == "nat" && v.foreign_total > 0) {
            done = true;
            seen->set_value();
          }
        });
        guard_->request_check("test");
        return true;
      },
      2s);
  ASSERT_EQ(seen->get_future().wait_for(10s), std::future_status::ready);
  nodeguard::v1::ListRulesRequest req;
  req.set_table("nat");
  nodeguard::v1::ListRulesResponse resp;
  ASSERT_TRUE(list(req, &resp).ok());
  ASSERT_EQ(resp.tables(0).foreign_rules(), 1u);
  ASSERT_EQ(resp.tables(0).foreign_size(), 1);
  EXPECT_EQ(resp.tables(0).foreign(0).chain(), "KUBE-SERVICES");
  EXPECT_EQ(resp.tables(0).foreign(0).owner(), "kube-proxy");
}

}  // namespace
}  // namespace ng::agent

namespace ng::agent {
namespace {
// Native nftables tables in ListRules: counts, state and the last writer, field by field.
TEST(NetfilterServiceNative, FillNativeCopiesEveryField) {
  netfilter::native::NativeTableView v;
  v.family = "ip";
  v.name = "kube-proxy";
  v.owners = {"kube-proxy", "calico-node"};
  v.state = "guarded";
  v.counts.chains = 4014;
  v.counts.base_chains = 7;
  v.counts.rules = 8021;
  v.counts.sets = 1007;
  v.counts.elements = 5000;
  netfilter::native::NativeWriter w;
  w.writer.pid = 6724;
  w.writer.comm = "nft";
  w.parent_comm = "bash";
  v.last_writer = w;
  v.last_drift = "table_deleted";
  v.repairs = 3;
  v.wipes = 3;
  nodeguard::v1::ListRulesResponse out;
  NetfilterService::fill_native({v}, out);
  ASSERT_EQ(out.native_tables_size(), 1);
  const auto& n = out.native_tables(0);
  EXPECT_EQ(n.family(), "ip");
  EXPECT_EQ(n.name(), "kube-proxy");
  EXPECT_EQ(n.owners_size(), 2);
  EXPECT_EQ(n.state(), "guarded");
  EXPECT_EQ(n.chains(), 4014u);
  EXPECT_EQ(n.base_chains(), 7u);
  EXPECT_EQ(n.rules(), 8021u);
  EXPECT_EQ(n.sets(), 1007u);
  EXPECT_EQ(n.elements(), 5000u);
  EXPECT_EQ(n.last_writer_pid(), 6724u);
  EXPECT_EQ(n.last_writer_comm(), "nft");
  EXPECT_EQ(n.last_writer_parent(), "bash");
  EXPECT_EQ(n.last_drift(), "table_deleted");
  EXPECT_EQ(n.repairs(), 3u);
}
}  // namespace
}  // namespace ng::agent
