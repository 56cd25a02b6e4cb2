#include <CLI/CLI.hpp>
#include <iostream>

#include "nodeguard/v1/agent.grpc.pb.h"
#include "tools/ngctl/command.h"
#include "tools/ngctl/health_text.h"
#include "tools/ngctl/output.h"

namespace ng::ngctl {

void add_status_command(CLI::App& app, const ClientOptions& opts, Runner& run) {
  auto* cmd = app.add_subcommand(
      "status", "The node's verdict, why, every condition, the last repair, and the components");
  cmd->footer(
      "Verdict: Unhealthy when a condition of severity error is True or a component failed;\n"
      "Degraded when a warning condition is True or a component is degraded; else Healthy.\n"
      "-o json prints the GetHealth response: verdict, verdict_reasons, conditions[],\n"
      "components[], last_repair, last_event_seq (a resume point for `ngctl watch\n"
      "--after-seq`).");
  auto events = std::make_shared<unsigned>(0);
  cmd->add_option("--events", *events, "Also show the N most recent events")->capture_default_str();
  cmd->callback([&opts, &run, events] {
    run = [&opts, events]() -> int {
      auto channel = open_channel(opts);
      if (!channel) return kExitUsage;
      auto stub = nodeguard::v1::Agent::NewStub(channel);
      grpc::ClientContext ctx;
      set_deadline(ctx, opts.timeout);
      nodeguard::v1::GetHealthRequest req;
      req.set_recent_events(*events);
      nodeguard::v1::GetHealthResponse resp;
      const auto status = stub->GetHealth(&ctx, req, &resp);
      if (!status.ok()) return report_rpc_failure(status, opts);
      if (opts.output == "json") {
        std::cout << to_json(resp);
        return kExitOk;
      }
      print_health(resp, std::cout);
      return kExitOk;
    };
  });
}

}  // namespace ng::ngctl
