#include <CLI/CLI.hpp>
#include <iostream>

#include "nodeguard/v1/agent.grpc.pb.h"
#include "tools/ngctl/command.h"
#include "tools/ngctl/output.h"

namespace ng::ngctl {

void add_status_command(CLI::App& app, const ClientOptions& opts, Runner& run) {
  auto* cmd = app.add_subcommand("status", "The agent's identity, verdict and component status");
  cmd->callback([&opts, &run] {
    run = [&opts]() -> int {
      std::string error;
      auto channel = make_channel(opts, opts.addr, &error);
      if (!channel) {
        std::cerr << "ngctl: " << error << "\n";
        return kExitUsage;
      }
      auto stub = nodeguard::v1::Agent::NewStub(channel);
      grpc::ClientContext ctx;
      set_deadline(ctx, opts.timeout);
      nodeguard::v1::GetStatusResponse resp;
      const auto status = stub->GetStatus(&ctx, nodeguard::v1::GetStatusRequest(), &resp);
      if (!status.ok()) return report_rpc_failure(status, opts.target());
      if (opts.output == "json") {
        std::cout << to_json(resp);
        return kExitOk;
      }
      std::cout << "Node:     " << resp.node_name() << "\n"
                << "Verdict:  " << resp.verdict() << "\n"
                << "Version:  " << resp.version() << " (" << resp.commit() << ")\n"
                << "Uptime:   " << format_duration_seconds(resp.uptime().seconds()) << "\n"
                << "Mode:     " << (resp.dry_run() ? "dry-run (observe only)" : "repair") << "\n\n";
      Table t({"COMPONENT", "STATE", "MESSAGE"});
      for (const auto& c : resp.components()) t.add({c.name(), c.state(), c.message()});
      if (resp.components().empty()) t.add({"(none)", "", ""});
      t.print(std::cout);
      return kExitOk;
    };
  });
}

}  // namespace ng::ngctl
