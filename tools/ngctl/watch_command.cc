#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>

#include "nodeguard/v1/agent.grpc.pb.h"
#include "tools/ngctl/command.h"
#include "tools/ngctl/health_text.h"
#include "tools/ngctl/output.h"

namespace ng::ngctl {
namespace {

struct WatchFlags {
  std::uint64_t after_seq = 0;
  bool only_new = false;
};

// Ctrl-C ends the watch cleanly: cancel the call, exit 0.
std::atomic<grpc::ClientContext*> g_watch_ctx{nullptr};
std::atomic<bool> g_interrupted{false};

void on_signal(int) {
  g_interrupted = true;
  if (auto* ctx = g_watch_ctx.load()) ctx->TryCancel();
}

int watch(const ClientOptions& opts, const WatchFlags& flags) {
  auto channel = open_channel(opts);
  if (!channel) return kExitUsage;
  auto stub = nodeguard::v1::Agent::NewStub(channel);
  grpc::ClientContext ctx;  // no deadline: a watch runs until stopped
  // Fail fast if the agent is not there or refuses us; after that the stream may stay quiet
  // for hours, so the call itself has no deadline.
  if (!connect_now(*channel, opts.timeout)) {
    return report_rpc_failure(grpc::Status(grpc::StatusCode::UNAVAILABLE, "not connected"), opts);
  }
  nodeguard::v1::WatchEventsRequest req;
  req.set_after_seq(flags.after_seq);
  req.set_only_new(flags.only_new);
  g_watch_ctx = &ctx;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  auto reader = stub->WatchEvents(&ctx, req);
  nodeguard::v1::WatchEventsResponse msg;
  while (reader->Read(&msg)) {
    if (opts.output == "json") {
      std::string line = to_json(msg);
      // One object per line for `jq -c` and log shippers.
      line.erase(std::remove(line.begin(), line.end(), '\n'), line.end());
      std::cout << line << "\n" << std::flush;
      continue;
    }
    if (msg.has_gap()) {
      std::cout << "-- gap: " << msg.gap().reason() << " (asked after seq "
                << msg.gap().requested_after_seq() << ", oldest held "
                << msg.gap().oldest_available_seq() << "); run `ngctl status` to re-read\n";
    } else {
      std::cout << event_line(msg.event()) << "\n";
    }
    std::cout << std::flush;
  }
  const auto status = reader->Finish();
  g_watch_ctx = nullptr;
  if (g_interrupted) return kExitOk;
  if (status.ok()) {
    std::cerr << "ngctl: the agent ended the watch\n";
    return kExitOk;
  }
  return report_rpc_failure(status, opts);
}

}  // namespace

void add_watch_command(CLI::App& app, const ClientOptions& opts, Runner& run) {
  auto* cmd = app.add_subcommand(
      "watch", "Follow the node's health events (drift, repairs, sessions, routes, logs)");
  cmd->footer(
      "Prints the events the agent still holds, then new ones as they happen, until Ctrl-C.\n"
      "Resume where you left off with --after-seq (the seq of the last event you saw);\n"
      "a '-- gap' line says events were lost in between.\n"
      "Examples:\n"
      "  ngctl watch --new\n"
      "  ngctl watch --after-seq 1042 -o json | jq -c 'select(.event.severity != \"info\")'");
  auto flags = std::make_shared<WatchFlags>();
  cmd->add_option("--after-seq", flags->after_seq,
                  "Start after this event sequence number (0: everything the agent holds)");
  cmd->add_flag("--new", flags->only_new, "Only events recorded from now on");
  cmd->callback([&opts, &run, flags] { run = [&opts, flags] { return watch(opts, *flags); }; });
}

}  // namespace ng::ngctl
