#pragma once

#include <sys/types.h>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grpcpp/support/status.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "agent/api/call_policy.h"
#include "agent/api/client_identity.h"
#include "agent/config/agent_config.h"
#include "core/clock.h"

namespace ng::agent {

// Why a call was refused; the label of nodeguard_api_refused_total.
enum class Refusal {
  kUnauthenticated,
  kPermissionDenied,
  kRateLimited,
  kTooManyStreams,
  kPeerUid,
  kTlsHandshake,
};
std::string_view to_string(Refusal r);

// The API's admission policy in one place: who may call what (by full method name), the unary
// rate limit, and the concurrent stream limit. Thread-safe: gRPC threads call it.
//
// Where it is applied (docs/api.md, "Security"): the TLS listener's AuthMetadataProcessor
// authorizes every call of every service before any handler runs; the unix socket's accept
// loop checks the peer uid per connection; CallGateInterceptor counts streams exactly and
// enforces the limits for calls that did not pass the processor.
class CallGate {
 public:
  CallGate(const ApiConfig& config, core::Clock& clock, prometheus::Registry& registry);

  // TCP calls: verified client required when a client CA is configured; mutating methods need
  // an identity in api.allowed_clients, log methods one in api.allowed_log_clients, each
  // matched against its own certificate field. OK, UNAUTHENTICATED or PERMISSION_DENIED.
  grpc::Status authorize_tls(const TlsPeer& peer, std::string_view method);

  // Unix-socket calls (the connection's uid was checked against api.allowed_uids on accept):
  // log methods need a uid in api.allowed_log_uids; nullopt (uid unknown) never has it.
  grpc::Status authorize_unix(std::optional<uid_t> uid, std::string_view method);

  // One token from the agent-wide bucket (api.max_requests_per_second, one second of burst).
  grpc::Status take_unary_token();

  // A stream slot (api.max_streams). On OK the caller must close_stream() when it ends.
  grpc::Status open_stream();
  void close_stream();
  // Early refusal without taking a slot (the processor; the interceptor then takes the slot).
  grpc::Status check_stream_room();
  std::int64_t active_streams() const;

  // A unix-socket connection refused by uid; a TLS handshake refused (mutual TLS).
  void count_peer_uid_refusal();
  void count_tls_handshake_refusal();
  // Finished calls by method and status code (nodeguard_api_requests_total); a method that is
  // not compiled into the agent is counted as "unknown".
  void count_result(std::string_view method, int code);

  bool client_certificates_required() const { return client_ca_; }

 private:
  grpc::Status refuse(Refusal r, grpc::StatusCode code, std::string message);
  grpc::Status too_many_streams();

  const bool client_ca_;
  const std::vector<ClientIdentity> allowed_clients_;
  const std::vector<ClientIdentity> allowed_log_clients_;
  const std::vector<uid_t> allowed_log_uids_;
  const double rate_;
  const double burst_;
  const std::int64_t max_streams_;
  core::Clock& clock_;

  mutable std::mutex mu_;
  double tokens_;
  core::MonoTime refilled_;
  std::int64_t streams_ = 0;

  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& refused_family_;
  std::vector<prometheus::Counter*> refused_;  // by Refusal
  prometheus::Gauge& streams_gauge_;
};

}  // namespace ng::agent
