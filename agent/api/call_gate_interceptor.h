#pragma once

#include <optional>
#include <string>

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_interceptor.h>

#include "agent/api/call_gate.h"

namespace ng::agent {

// Created by gRPC for every call of every service on both listeners, and destroyed when the
// call is over, so it is where streams are counted exactly. Calls that came over TLS were
// authorized and rate-limited by TlsAuthProcessor; calls from the unix socket (whose peer uid
// the accept loop checked) are rate-limited here, and log methods need the caller's uid in
// api.allowed_log_uids. A method the agent does not have counts as unary, never as a stream.
//
// gRPC 1.51 server interceptors cannot fail a call themselves, so a refusal made here is left
// on the call (see gate_refusal) and the shared handler helpers (unary_on_loop,
// WatchEvents) finish the call with it before doing any work.
class CallGateInterceptor final : public grpc::experimental::Interceptor {
 public:
  CallGateInterceptor(grpc::experimental::ServerRpcInfo* info, CallGate& gate);
  ~CallGateInterceptor() override;
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override;

 private:
  void admit(std::multimap<grpc::string_ref, grpc::string_ref>* metadata);

  CallGate& gate_;
  grpc::experimental::ServerRpcInfo* info_;
  std::string method_;
  bool streaming_;
  bool holds_stream_ = false;
  std::string refusal_;  // "<code>:<message>", referenced by the call's metadata
};

class CallGateInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallGateInterceptorFactory(CallGate& gate) : gate_(gate) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CallGateInterceptor(info, gate_);
  }

 private:
  CallGate& gate_;
};

// The refusal the interceptor left on this call, if any. Every handler checks it before doing
// work; unary_on_loop does it for unary handlers.
std::optional<grpc::Status> gate_refusal(const grpc::ServerContextBase& ctx);

}  // namespace ng::agent
