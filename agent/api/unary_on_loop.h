#pragma once

#include <grpcpp/support/server_callback.h>

#include "agent/api/call_gate_interceptor.h"
#include "core/executor.h"

namespace ng::agent {

// gRPC callback handlers never touch agent state on gRPC threads: they post the work to the
// loop, which fills the response and finishes the call. fn returns grpc::Status.
//
// A call the API's limits refused (gate_refusal) is finished with that status and fn never
// runs; so is a call the client cancelled before the loop got to it.
template <class Fn>
grpc::ServerUnaryReactor* unary_on_loop(grpc::CallbackServerContext* ctx, core::Executor& loop,
                                        Fn fn) {
  auto* reactor = ctx->DefaultReactor();
  if (auto refused = gate_refusal(*ctx)) {
    reactor->Finish(*refused);
    return reactor;
  }
  loop.post([ctx, reactor, fn = std::move(fn)]() mutable {
    if (ctx->IsCancelled()) {
      reactor->Finish(grpc::Status::CANCELLED);
      return;
    }
    reactor->Finish(fn());
  });
  return reactor;
}

}  // namespace ng::agent
