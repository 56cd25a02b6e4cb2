#include "agent/api/grpc_log_bridge.h"

#include <grpc/support/log.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>

namespace ng::agent {
namespace {

struct Bridge {
  core::Logger log;
  CallGate* gate;
};

// gRPC's log hook is a plain function pointer: the bridge it calls lives here.
std::mutex g_mu;
std::shared_ptr<Bridge> g_bridge;

void forward(gpr_log_func_args* args) {
  std::shared_ptr<Bridge> bridge;
  {
    std::lock_guard lock(g_mu);
    bridge = g_bridge;
  }
  if (!bridge || !args || !args->message) return;
  const bool handshake = is_tls_handshake_failure(args->message);
  if (handshake && bridge->gate) bridge->gate->count_tls_handshake_refusal();
  const auto level = handshake || args->severity != GPR_LOG_SEVERITY_ERROR ? core::LogLevel::kDebug
                                                                           : core::LogLevel::kWarn;
  if (!bridge->log.enabled(level)) return;
  bridge->log.log(
      level, handshake ? "TLS handshake refused" : "gRPC",
      {{"detail", args->message},
       {"source", std::string(args->file ? args->file : "") + ":" + std::to_string(args->line)}});
}

}  // namespace

bool is_tls_handshake_failure(const char* message) {
  return message && std::strstr(message, "Handshake failed") != nullptr;
}

void install_grpc_log_bridge(core::Logger log, CallGate* gate) {
  {
    std::lock_guard lock(g_mu);
    g_bridge = std::make_shared<Bridge>(Bridge{log.with_component("grpc"), gate});
  }
  // Errors only from gRPC itself unless the agent logs at debug.
  gpr_set_log_verbosity(log.enabled(core::LogLevel::kDebug) ? GPR_LOG_SEVERITY_DEBUG
                                                            : GPR_LOG_SEVERITY_ERROR);
  gpr_set_log_function(forward);
}

void uninstall_grpc_log_bridge() {
  std::lock_guard lock(g_mu);
  g_bridge.reset();
}

}  // namespace ng::agent
