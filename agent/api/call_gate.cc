#include "agent/api/call_gate.h"

#include <algorithm>

#include "agent/api/unix_socket_listener.h"

namespace ng::agent {
namespace {

constexpr Refusal kAllRefusals[] = {Refusal::kUnauthenticated, Refusal::kPermissionDenied,
                                    Refusal::kRateLimited,     Refusal::kTooManyStreams,
                                    Refusal::kPeerUid,         Refusal::kTlsHandshake};

std::string code_name(int code) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  if (code >= 0 && code < static_cast<int>(std::size(kNames))) return kNames[code];
  return "UNKNOWN";
}

}  // namespace

std::string_view to_string(Refusal r) {
  switch (r) {
    case Refusal::kUnauthenticated:
      return "unauthenticated";
    case Refusal::kPermissionDenied:
      return "permission_denied";
    case Refusal::kRateLimited:
      return "rate_limited";
    case Refusal::kTooManyStreams:
      return "too_many_streams";
    case Refusal::kPeerUid:
      return "peer_uid";
    case Refusal::kTlsHandshake:
      return "tls_handshake";
  }
  return "unknown";
}

CallGate::CallGate(const ApiConfig& config, core::Clock& clock, prometheus::Registry& registry)
    : client_ca_(!config.tls_client_ca.empty()),
      allowed_clients_(parse_client_identities(config.allowed_clients)),
      allowed_log_clients_(parse_client_identities(config.allowed_log_clients)),
      allowed_log_uids_(parse_uids(config.allowed_log_uids)),
      rate_(config.max_requests_per_second),
      burst_(std::max(1.0, config.max_requests_per_second)),
      max_streams_(config.max_streams),
      clock_(clock),
      tokens_(burst_),
      refilled_(clock.now()),
      requests_(prometheus::BuildCounter()
                    .Name("nodeguard_api_requests_total")
                    .Help("gRPC calls finished, by full method name and status code")
                    .Register(registry)),
      refused_family_(prometheus::BuildCounter()
                          .Name("nodeguard_api_refused_total")
                          .Help("gRPC calls and unix-socket connections refused by the API's "
                                "security and limits, by reason")
                          .Register(registry)),
      streams_gauge_(prometheus::BuildGauge()
                         .Name("nodeguard_api_active_streams")
                         .Help("Streaming gRPC calls open now (limit: api.max_streams)")
                         .Register(registry)
                         .Add({})) {
  for (Refusal r : kAllRefusals) {
    refused_.push_back(&refused_family_.Add({{"reason", std::string(to_string(r))}}));
  }
}

grpc::Status CallGate::refuse(Refusal r, grpc::StatusCode code, std::string message) {
  refused_[static_cast<size_t>(r)]->Increment();
  return {code, std::move(message)};
}

grpc::Status CallGate::authorize_tls(const TlsPeer& peer, std::string_view method) {
  if (client_ca_ && !peer.verified) {
    return refuse(Refusal::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED,
                  "this agent requires a client certificate signed by its client CA "
                  "(ngctl: --tls-cert and --tls-key)");
  }
  const Role role = method_traits(method).role;
  if (role == Role::kReadOnly) return grpc::Status::OK;
  const bool logs = role == Role::kLogs;
  const char* what = logs ? " returns the node's logs" : " changes the node";
  const char* key = logs ? "api.allowed_log_clients" : "api.allowed_clients";
  if (!peer.verified) {
    // Config check refuses a TCP listener without a client CA; the gate stays safe anyway.
    return refuse(Refusal::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED,
                  std::string(method) + what +
                      " and needs a verified client certificate; this agent has no client CA "
                      "(api.tls_client_ca), so only its unix socket serves it");
  }
  if (peer.matches_any(logs ? allowed_log_clients_ : allowed_clients_)) return grpc::Status::OK;
  return refuse(Refusal::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED,
                std::string(method) + what + "; client identity [" + peer.describe() +
                    "] matches no entry of " + key);
}

grpc::Status CallGate::authorize_unix(std::optional<uid_t> uid, std::string_view method) {
  if (method_traits(method).role != Role::kLogs) return grpc::Status::OK;
  if (uid && std::find(allowed_log_uids_.begin(), allowed_log_uids_.end(), *uid) !=
                 allowed_log_uids_.end()) {
    return grpc::Status::OK;
  }
  return refuse(Refusal::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED,
                std::string(method) + " returns the node's logs; uid " +
                    (uid ? std::to_string(*uid) : std::string("(unknown)")) +
                    " is not in api.allowed_log_uids");
}

grpc::Status CallGate::take_unary_token() {
  {
    std::lock_guard lock(mu_);
    const auto now = clock_.now();
    const double elapsed = std::chrono::duration<double>(now - refilled_).count();
    if (elapsed > 0) {
      tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
      refilled_ = now;
    }
    if (tokens_ >= 1.0) {
      tokens_ -= 1.0;
      return grpc::Status::OK;
    }
  }
  return refuse(Refusal::kRateLimited, grpc::StatusCode::RESOURCE_EXHAUSTED,
                "rate limit: this agent answers at most " + std::to_string(rate_) +
                    " calls per second (api.max_requests_per_second); retry with backoff");
}

grpc::Status CallGate::too_many_streams() {
  return refuse(Refusal::kTooManyStreams, grpc::StatusCode::RESOURCE_EXHAUSTED,
                "too many streams: this agent serves at most " + std::to_string(max_streams_) +
                    " concurrent streaming calls (api.max_streams); close one or retry later");
}

grpc::Status CallGate::open_stream() {
  {
    std::lock_guard lock(mu_);
    if (streams_ < max_streams_) {
      ++streams_;
      streams_gauge_.Set(static_cast<double>(streams_));
      return grpc::Status::OK;
    }
  }
  return too_many_streams();
}

grpc::Status CallGate::check_stream_room() {
  {
    std::lock_guard lock(mu_);
    if (streams_ < max_streams_) return grpc::Status::OK;
  }
  return too_many_streams();
}

void CallGate::close_stream() {
  std::lock_guard lock(mu_);
  if (streams_ > 0) --streams_;
  streams_gauge_.Set(static_cast<double>(streams_));
}

std::int64_t CallGate::active_streams() const {
  std::lock_guard lock(mu_);
  return streams_;
}

void CallGate::count_peer_uid_refusal() {
  refused_[static_cast<size_t>(Refusal::kPeerUid)]->Increment();
}

void CallGate::count_tls_handshake_refusal() {
  refused_[static_cast<size_t>(Refusal::kTlsHandshake)]->Increment();
}

void CallGate::count_result(std::string_view method, int code) {
  requests_.Add({{"method", method_label(method)}, {"code", code_name(code)}}).Increment();
}

}  // namespace ng::agent
