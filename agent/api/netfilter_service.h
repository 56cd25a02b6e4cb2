#pragma once

#include "core/executor.h"
#include "netfilter/guard.h"
#include "netfilter/native/native_table_guard.h"
#include "nodeguard/v1/netfilter.grpc.pb.h"

namespace ng::agent {

// nodeguard.v1.Netfilter over the netfilter guard. ListRules answers from the guard's view on
// the loop; Repair starts a repair-now on the loop and finishes the call when the workers are
// done. Repair is mutating (unless dry_run); so is Forget, which drops snapshot entries.
class NetfilterService final : public nodeguard::v1::Netfilter::CallbackService {
 public:
  NetfilterService(core::Executor& loop, netfilter::Guard& guard) : loop_(loop), guard_(guard) {}
  // The native nftables table guard, when registered: listed by ListRules, re-checked by Repair.
  void set_native(netfilter::native::NativeTableGuard* native) { native_ = native; }

  grpc::ServerUnaryReactor* ListRules(grpc::CallbackServerContext* ctx,
                                      const nodeguard::v1::ListRulesRequest* request,
                                      nodeguard::v1::ListRulesResponse* response) override;
  grpc::ServerUnaryReactor* Repair(grpc::CallbackServerContext* ctx,
                                   const nodeguard::v1::RepairRequest* request,
                                   nodeguard::v1::RepairResponse* response) override;
  // Mutating (Repair-level authorization, call_policy.cc).
  grpc::ServerUnaryReactor* Forget(grpc::CallbackServerContext* ctx,
                                   const nodeguard::v1::ForgetRequest* request,
                                   nodeguard::v1::ForgetResponse* response) override;

  // Loop thread. Exposed for tests.
  static void fill(const netfilter::GuardView& view, const nodeguard::v1::ListRulesRequest& req,
                   nodeguard::v1::ListRulesResponse& out);
  static void fill_native(const std::vector<netfilter::native::NativeTableView>& tables,
                          nodeguard::v1::ListRulesResponse& out);

 private:
  core::Executor& loop_;
  netfilter::Guard& guard_;
  netfilter::native::NativeTableGuard* native_ = nullptr;
};

}  // namespace ng::agent
