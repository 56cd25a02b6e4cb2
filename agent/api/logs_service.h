#pragma once

#include <atomic>
#include <cstddef>
#include <functional>

#include "core/executor.h"
#include "nodeguard/v1/logs.grpc.pb.h"

namespace ng::probes::logs {
class LogsComponent;
}

namespace ng::agent {

struct LogsServiceOptions {
  // Per stream: live lines beyond this many queued bytes are dropped (and reported).
  size_t queue_bytes = 1024 * 1024;
  // History bytes read per loop turn for one stream.
  size_t history_step_bytes = 256 * 1024;
};

// nodeguard.v1.Logs. Each TailLogs call is a ServerWriteReactor fed from the loop: the loop
// only appends to a bounded per-stream queue and never waits for a client; gRPC threads drain
// it. History is read in steps paced by the client.
class LogsService final : public nodeguard::v1::Logs::CallbackService {
 public:
  // logs: null when the component is not registered (disabled): calls get UNAVAILABLE.
  LogsService(core::Executor& loop, probes::logs::LogsComponent* logs,
              LogsServiceOptions options = {})
      : loop_(loop), logs_(logs), opt_(options) {}

  grpc::ServerWriteReactor<nodeguard::v1::TailLogsResponse>* TailLogs(
      grpc::CallbackServerContext* ctx, const nodeguard::v1::TailLogsRequest* request) override;

 private:
  core::Executor& loop_;
  probes::logs::LogsComponent* logs_;
  LogsServiceOptions opt_;
};

}  // namespace ng::agent
