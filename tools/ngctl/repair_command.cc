#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "nodeguard/v1/netfilter.grpc.pb.h"
#include "tools/ngctl/command.h"
#include "tools/ngctl/netfilter_client.h"
#include "tools/ngctl/output.h"

namespace ng::ngctl {

namespace {
struct RepairArgs {
  TableFilterArgs filter;
  std::string reason;
  bool dry_run = false;
};
}  // namespace

void add_repair_command(CLI::App& app, const ClientOptions& opts, Runner& run) {
  auto args = std::make_shared<RepairArgs>();
  auto* cmd =
      app.add_subcommand("repair", "Check the guarded iptables chains now and repair what drifted");
  cmd->add_flag("--dry-run", args->dry_run,
                "Show what would be changed (and the exact iptables-restore text); change nothing");
  add_table_filter_flags(cmd, args->filter);
  cmd->add_option("--reason", args->reason, "Why, for the agent's log");
  cmd->footer(
      "Examples:\n"
      "  ngctl repair --dry-run\n"
      "  ngctl repair -t nat --reason \"after firewalld maintenance\"\n\n"
      "Exit code 3 when a table could not be repaired.");
  cmd->callback([&opts, &run, args] {
    run = [&opts, args]() -> int {
      auto stub = netfilter_stub(opts);
      if (!stub) return kExitUsage;
      grpc::ClientContext ctx;
      set_deadline(ctx, opts.timeout);
      nodeguard::v1::RepairRequest req;
      set_filter(req, args->filter);
      req.set_dry_run(args->dry_run);
      req.set_reason(args->reason.empty() ? "ngctl repair" : args->reason);
      nodeguard::v1::RepairResponse resp;
      const auto status = stub->Repair(&ctx, req, &resp);
      if (!status.ok()) return report_rpc_failure(status, opts);
      bool failed = false;
      for (const auto& t : resp.tables()) failed = failed || !t.error().empty();
      if (opts.output == "json") {
        std::cout << to_json(resp);
        return failed ? kExitRpcError : kExitOk;
      }
      if (resp.tables().empty()) std::cout << "No guarded table matched.\n";
      for (const auto& t : resp.tables()) {
        const std::string name = t.backend() + "/" + t.family() + "/" + t.table();
        if (!t.error().empty()) {
          std::cout << name << ": FAILED: " << t.error() << "\n";
        } else if (t.changes().empty()) {
          std::cout << name << ": in order, nothing to do\n";
        } else {
          std::cout << name << ": "
                    << (t.committed()    ? "repaired"
                        : resp.dry_run() ? "would repair"
                                         : "not committed")
                    << " (" << t.changes_size() << " changes)\n";
        }
        for (const auto& d : t.drift()) {
          std::cout << "  drift: " << d.kind() << (d.chain().empty() ? "" : " " + d.chain())
                    << (d.rule().empty() ? "" : ": " + d.rule())
                    << (d.detail().empty() ? "" : " (" + d.detail() + ")") << "\n";
        }
        for (const auto& d : t.reports()) {
          std::cout << "  reported: " << d.chain() << " " << d.detail() << "\n";
        }
        for (const auto& c : t.changes()) std::cout << "  " << c << "\n";
        if (resp.dry_run() && !t.restore_text().empty()) {
          std::cout << "  iptables-restore --noflush input:\n";
          std::string line;
          for (char ch : t.restore_text()) {
            if (ch == '\n') {
              std::cout << "    " << line << "\n";
              line.clear();
            } else {
              line += ch;
            }
          }
        }
      }
      return failed ? kExitRpcError : kExitOk;
    };
  });
}

}  // namespace ng::ngctl
