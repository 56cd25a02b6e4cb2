#include <CLI/CLI.hpp>
#include <iostream>

#include "tools/ngctl/command.h"
#include "tools/ngctl/network_client.h"
#include "tools/ngctl/output.h"

namespace ng::ngctl {

void add_routes_command(CLI::App& app, const ClientOptions& opts, Runner& run) {
  auto* cmd = app.add_subcommand(
      "routes",
      "Route verdict for every pod block: is each peer's block routed the right way (direct in "
      "the subnet, IPIP/VXLAN across), and if not, why and the fix");
  auto problems = std::make_shared<bool>(false);
  auto wide = std::make_shared<bool>(false);
  cmd->add_flag("--problems", *problems, "Only blocks with a problem");
  cmd->add_flag("--wide", *wide, "Add the reason column");
  cmd->footer(
      "Examples:\n"
      "  ngctl routes\n"
      "  ngctl routes --problems -o json | jq -r '.verdicts[] | .block + \" \" + .fix'\n\n"
      "Exit code 0 also when problems were found; use --problems and -o json in scripts.");
  cmd->callback([&opts, &run, problems, wide] {
    run = [&opts, problems, wide]() -> int {
      int rc = kExitOk;
      auto stub = network_stub(opts, &rc);
      if (!stub) return rc;
      grpc::ClientContext ctx;
      set_deadline(ctx, opts.timeout);
      nodeguard::v1::ListRoutesRequest req;
      req.set_problems_only(*problems);
      nodeguard::v1::ListRoutesResponse resp;
      const auto status = stub->ListRoutes(&ctx, req, &resp);
      if (!status.ok()) return report_rpc_failure(status, opts);
      if (opts.output == "json") {
        std::cout << to_json(resp);
        return kExitOk;
      }
      if (!resp.synced()) std::cout << "(the agent has not finished reading routes yet)\n";
      std::vector<std::string> header = {"BLOCK", "PEER", "ENCAP", "VERDICT", "ROUTE"};
      if (*wide) header.push_back("REASON");
      Table t(header);
      int problems_found = 0;
      for (const auto& v : resp.verdicts()) {
        std::string peer = v.peer().empty() ? "(this node)" : v.peer();
        if (!v.peer_ip().empty() && v.peer_ip() != v.peer()) peer += " " + v.peer_ip();
        std::vector<std::string> row = {v.block(), peer,
                                        v.encapsulation() == "unknown" ? "-" : v.encapsulation(),
                                        v.kind(), v.route().empty() ? "(none)" : v.route()};
        if (*wide) row.push_back(v.reason());
        t.add(std::move(row));
        problems_found += v.kind() != "Healthy";
      }
      if (resp.verdicts().empty()) t.add({"(none)", "", "", "", ""});
      t.print(std::cout);
      if (problems_found) {
        std::cout << "\nProblems:\n";
        for (const auto& v : resp.verdicts()) {
          if (v.kind() == "Healthy") continue;
          std::cout << "  " << v.block() << " " << v.kind() << ": " << v.reason() << "\n"
                    << "    fix: " << v.fix() << "\n";
        }
      }
      return kExitOk;
    };
  });
}

}  // namespace ng::ngctl
