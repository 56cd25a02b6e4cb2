#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "nodeguard/v1/netfilter.grpc.pb.h"
#include "tools/ngctl/command.h"
#include "tools/ngctl/netfilter_client.h"
#include "tools/ngctl/output.h"

namespace ng::ngctl {

namespace {
struct ForgetArgs {
  std::string backend, family, table, chain, rule, reason;
};
}  // namespace

void add_forget_command(CLI::App& app, const ClientOptions& opts, Runner& run) {
  auto args = std::make_shared<ForgetArgs>();
  auto* cmd = app.add_subcommand(
      "forget",
      "Make the netfilter guard stop restoring a chain or one rule (drop it from its "
      "last-known-good snapshot)");
  cmd->add_option("TABLE", args->table, "The table: nat, filter, mangle, raw")->required();
  cmd->add_option("CHAIN", args->chain, "The chain; alone, the chain and every jump into it")
      ->required();
  cmd->add_option("RULE", args->rule,
                  "One rule of CHAIN exactly as iptables-save prints it, with or without the "
                  "leading \"-A CHAIN\", as one quoted argument after \"--\"");
  cmd->add_option("--backend", args->backend, "Only this backend: legacy or nft (default: all)");
  cmd->add_option("--family", args->family, "Only this family: ipv4 or ipv6 (default: all)");
  cmd->add_option("--reason", args->reason, "Why, for the agent's log and event");
  cmd->footer(
      "The guard restores what it has seen an owner write (CNI plugins, kube-proxy, Calico). When "
      "a chain or rule it keeps is no longer wanted (a leftover of a removed pod or service, a "
      "rule written by hand), forget it, then delete it from the table; the guard will not put it "
      "back. Entries stay forgotten while they remain in the table; once the agent has seen them "
      "gone, a new chain or rule of that name is guarded again. Rules no owner explains are never "
      "restored anyway (see `ngctl rules`: foreign). A hostPort chain the CNI cache still expects "
      "comes back regardless. Needs the same authorization as `ngctl repair`.\n\n"
      "Examples:\n"
      "  ngctl forget nat KUBE-SVC-ERIFXISQEP7F7OF4 --reason \"service deleted, kube-proxy gone\"\n"
      "  ngctl forget nat KUBE-SERVICES -- '-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment "
      "--comment \"kube-system/kube-dns:dns cluster IP\" -m udp --dport 53 -j "
      "KUBE-SVC-ERIFXISQEP7F7OF4'\n"
      "  ngctl forget --family ipv6 -o json nat PREROUTING -- '-j KUBE-SERVICES'\n\n"
      "A RULE starts with \"-\": put \"--\" before it (and every flag before \"--\").\n\n"
      "Exit code 3 when the agent refused (not authorized) or no snapshot held the entry.");
  cmd->callback([&opts, &run, args] {
    run = [&opts, args]() -> int {
      auto stub = netfilter_stub(opts);
      if (!stub) return kExitUsage;
      grpc::ClientContext ctx;
      set_deadline(ctx, opts.timeout);
      nodeguard::v1::ForgetRequest req;
      req.set_backend(args->backend);
      req.set_family(args->family);
      req.set_table(args->table);
      req.set_chain(args->chain);
      req.set_rule(args->rule);
      req.set_reason(args->reason.empty() ? "ngctl forget" : args->reason);
      nodeguard::v1::ForgetResponse resp;
      const auto status = stub->Forget(&ctx, req, &resp);
      if (!status.ok()) return report_rpc_failure(status, opts);
      if (opts.output == "json") {
        std::cout << to_json(resp);
        return kExitOk;
      }
      for (const auto& t : resp.tables()) {
        std::cout << t.backend() << "/" << t.family() << "/" << t.table() << ": forgot "
                  << t.removed_size() << " entr" << (t.removed_size() == 1 ? "y" : "ies") << "\n";
        for (const auto& line : t.removed()) std::cout << "  " << line << "\n";
      }
      return kExitOk;
    };
  });
}

}  // namespace ng::ngctl
