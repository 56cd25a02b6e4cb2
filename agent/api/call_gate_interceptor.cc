#include "agent/api/call_gate_interceptor.h"

#include <sys/socket.h>

#include <charconv>

namespace ng::agent {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::ServerRpcInfo;

// A metadata key only the interceptor writes; any copy a client sends is removed first.
constexpr std::string_view kRefusalKey = "nodeguard-internal-refusal";

bool over_tcp(const std::string& peer) {
  return peer.rfind("ipv4:", 0) == 0 || peer.rfind("ipv6:", 0) == 0;
}

// The uid of a unix-socket caller. The listener hands accepted connections to gRPC, which
// names them "fd:N"; the connection's fd stays open while any of its calls runs, so the
// kernel's SO_PEERCRED on it is this caller's. nullopt when the peer is anything else.
std::optional<uid_t> unix_peer_uid(const std::string& peer) {
  if (peer.rfind("fd:", 0) != 0) return std::nullopt;
  int fd = -1;
  const char* end = peer.data() + peer.size();
  if (auto [p, ec] = std::from_chars(peer.data() + 3, end, fd); ec != std::errc() || p != end) {
    return std::nullopt;
  }
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return std::nullopt;
  return cred.uid;
}

}  // namespace

CallGateInterceptor::CallGateInterceptor(ServerRpcInfo* info, CallGate& gate)
    : gate_(gate),
      info_(info),
      method_(info->method() ? info->method() : ""),
      // A method the agent does not have reaches gRPC's "unimplemented" handler, which is a
      // bidi stream; it is charged as what it is for the client: one unary call.
      streaming_(info->type() != ServerRpcInfo::Type::UNARY && method_traits(method_).known) {}

CallGateInterceptor::~CallGateInterceptor() {
  if (holds_stream_) gate_.close_stream();
}

void CallGateInterceptor::admit(std::multimap<grpc::string_ref, grpc::string_ref>* metadata) {
  if (metadata) {
    for (auto it = metadata->begin(); it != metadata->end();) {
      it = it->first == grpc::string_ref(kRefusalKey.data(), kRefusalKey.size())
               ? metadata->erase(it)
               : std::next(it);
    }
  }
  // TCP calls were authorized and paid their token in TlsAuthProcessor.
  const std::string peer = info_->server_context()->peer();
  const bool tcp = over_tcp(peer);
  grpc::Status st;
  if (!tcp) st = gate_.authorize_unix(unix_peer_uid(peer), method_);
  if (st.ok() && streaming_) {
    st = gate_.open_stream();
    holds_stream_ = st.ok();
  } else if (st.ok() && !tcp) {
    st = gate_.take_unary_token();
  }
  if (st.ok() || !metadata) return;
  refusal_ = std::to_string(static_cast<int>(st.error_code())) + ":" + st.error_message();
  metadata->emplace(grpc::string_ref(kRefusalKey.data(), kRefusalKey.size()),
                    grpc::string_ref(refusal_));
}

void CallGateInterceptor::Intercept(grpc::experimental::InterceptorBatchMethods* methods) {
  if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
    admit(methods->GetRecvInitialMetadata());
  }
  if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
    gate_.count_result(method_, static_cast<int>(methods->GetSendStatus().error_code()));
  }
  methods->Proceed();
}

std::optional<grpc::Status> gate_refusal(const grpc::ServerContextBase& ctx) {
  const auto& md = ctx.client_metadata();
  auto it = md.find(grpc::string_ref(kRefusalKey.data(), kRefusalKey.size()));
  if (it == md.end()) return std::nullopt;
  const std::string value(it->second.data(), it->second.size());
  const auto colon = value.find(':');
  int code = grpc::StatusCode::RESOURCE_EXHAUSTED;
  try {
    code = std::stoi(value.substr(0, colon));
  } catch (...) {
  }
  return grpc::Status(static_cast<grpc::StatusCode>(code),
                      colon == std::string::npos ? value : value.substr(colon + 1));
}

}  // namespace ng::agent
