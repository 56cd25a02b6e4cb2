#pragma once

#include <grpcpp/support/server_callback.h>

#include "core/executor.h"

namespace ng::agent {

// gRPC callback handlers never touch agent state on gRPC threads: they post the work to the
// loop, which fills the response and finishes the call. fn returns grpc::Status.
template <class Fn>
grpc::ServerUnaryReactor* unary_on_loop(grpc::CallbackServerContext* ctx, core::Executor& loop,
                                        Fn fn) {
  auto* reactor = ctx->DefaultReactor();
  loop.post([reactor, fn = std::move(fn)]() mutable { reactor->Finish(fn()); });
  return reactor;
}

}  // namespace ng::agent
