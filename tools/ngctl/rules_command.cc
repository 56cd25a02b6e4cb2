#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "nodeguard/v1/netfilter.grpc.pb.h"
#include "tools/ngctl/command.h"
#include "tools/ngctl/netfilter_client.h"
#include "tools/ngctl/output.h"

namespace ng::ngctl {

namespace {
// Native nftables tables (netfilter.nft_tables): owner, size, state, last writer.
void print_native(const nodeguard::v1::ListRulesResponse& resp) {
  if (resp.native_tables().empty()) return;
  std::cout << "\nNative nftables tables:\n";
  Table native({"FAMILY", "TABLE", "OWNER", "STATE", "CHAINS", "RULES", "SETS", "ELEMENTS",
                "REPAIRS", "LAST WRITER"});
  for (const auto& t : resp.native_tables()) {
    std::string owners;
    for (const auto& o : t.owners()) owners += (owners.empty() ? "" : ",") + o;
    std::string writer = "-";
    if (!t.last_writer_comm().empty() || t.last_writer_pid() != 0) {
      writer = (t.last_writer_comm().empty() ? "?" : t.last_writer_comm()) + " (pid " +
               std::to_string(t.last_writer_pid()) +
               (t.last_writer_parent().empty() ? "" : ", parent " + t.last_writer_parent()) +
               (t.last_writer_unit().empty() ? "" : ", unit " + t.last_writer_unit()) + ")";
    }
    std::string state = t.state();
    if (!t.last_drift().empty()) state += " (last: " + t.last_drift() + ")";
    native.add({t.family(), t.name(), owners.empty() ? "-" : owners, state,
                std::to_string(t.chains()), std::to_string(t.rules()), std::to_string(t.sets()),
                std::to_string(t.elements()), std::to_string(t.repairs()), writer});
  }
  native.print(std::cout);
  for (const auto& t : resp.native_tables()) {
    if (!t.last_error().empty()) {
      std::cout << "  " << t.family() << " " << t.name() << ": error: " << t.last_error() << "\n";
    }
  }
}
}  // namespace

namespace {

struct RulesArgs {
  TableFilterArgs filter;
  bool rules = false;
};

std::string ago(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0) return "never";
  const long long now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  return format_duration_seconds(std::max(0LL, now - t.seconds())) + " ago";
}

// "iptables-nft (pid 4242, kubelet.service)", "-" when nobody was heard.
std::string writer_text(const nodeguard::v1::GuardedTable& t) {
  if (!t.has_last_writer()) return t.backend() == "legacy" ? "unknown" : "-";
  const auto& w = t.last_writer();
  std::string s = (w.comm().empty() ? "?" : w.comm()) + " (pid " + std::to_string(w.pid());
  if (!w.unit().empty()) s += ", " + w.unit();
  if (!w.container().empty()) s += ", container " + w.container().substr(0, 12);
  return s + ")";
}

}  // namespace

void add_rules_command(CLI::App& app, const ClientOptions& opts, Runner& run) {
  auto args = std::make_shared<RulesArgs>();
  auto* cmd =
      app.add_subcommand("rules", "The iptables chains the netfilter guard keeps, and their state");
  add_table_filter_flags(cmd, args->filter);
  cmd->add_flag("--rules", args->rules, "Print every guarded rule (iptables-save lines)");
  cmd->footer(
      "Examples:\n"
      "  ngctl rules\n"
      "  ngctl rules -t nat --family ipv4 --rules\n"
      "  ngctl rules -o json | jq '.tables[] | select(.state != \"ok\")'");
  cmd->callback([&opts, &run, args] {
    run = [&opts, args]() -> int {
      auto stub = netfilter_stub(opts);
      if (!stub) return kExitUsage;
      grpc::ClientContext ctx;
      set_deadline(ctx, opts.timeout);
      nodeguard::v1::ListRulesRequest req;
      set_filter(req, args->filter);
      req.set_include_rules(args->rules || opts.output == "json");
      nodeguard::v1::ListRulesResponse resp;
      const auto status = stub->ListRules(&ctx, req, &resp);
      if (!status.ok()) return report_rpc_failure(status, opts);
      if (opts.output == "json") {
        std::cout << to_json(resp);
        return kExitOk;
      }
      std::cout << "Backends: " << (resp.backends().empty() ? "none" : "");
      for (int i = 0; i < resp.backends_size(); ++i) {
        std::cout << (i ? ", " : "") << resp.backends(i);
      }
      std::cout << " (mode " << resp.backend_mode() << ": " << resp.backend_reason() << ")"
                << (resp.dry_run() ? "  [dry-run]" : "") << "\n\n";
      Table summary({"BACKEND", "FAMILY", "TABLE", "STATE", "CHAINS", "RULES", "CANARY", "REPAIRS",
                     "LAST REPAIR", "LAST WRITER"});
      for (const auto& t : resp.tables()) {
        std::string last = t.last_repair_result().empty()
                               ? "-"
                               : t.last_repair_result() + " " + ago(t.last_repair());
        std::string state = t.state();
        if (t.fighting()) {
          state += " (fight, backoff " + std::to_string(t.backoff().seconds()) + "s)";
        }
        summary.add({t.backend(), t.family(), t.table(), state, std::to_string(t.guarded_chains()),
                     std::to_string(t.guarded_rules()), t.canary_present() ? "yes" : "no",
                     std::to_string(t.repairs()), last, writer_text(t)});
      }
      if (resp.tables().empty()) summary.add({"(none)", "", "", "", "", "", "", "", "", ""});
      summary.print(std::cout);
      print_native(resp);
      for (const auto& t : resp.tables()) {
        if (t.chains().empty() && t.reports().empty() && t.last_error().empty() &&
            t.foreign().empty() && t.last_drift().empty()) {
          continue;
        }
        std::cout << "\n" << t.backend() << "/" << t.family() << "/" << t.table() << ":\n";
        if (!t.last_error().empty()) std::cout << "  error: " << t.last_error() << "\n";
        for (const auto& r : t.reports()) {
          std::cout << "  reported: " << r.chain() << " " << r.detail() << "\n";
        }
        for (const auto& r : t.foreign()) {
          std::cout << "  foreign (kept, not restored): -A " << r.chain() << " " << r.rule()
                    << "  [" << r.owner() << ": " << r.why() << "]\n";
        }
        if (t.foreign_rules() > static_cast<uint32_t>(t.foreign_size())) {
          std::cout << "  ... " << (t.foreign_rules() - t.foreign_size()) << " more foreign\n";
        }
        for (const auto& d : t.last_drift()) {
          std::cout << "  last drift: " << d.kind() << (d.chain().empty() ? "" : " " + d.chain())
                    << (d.detail().empty() ? "" : " (" + d.detail() + ")") << "\n";
        }
        if (!t.last_drift().empty()) {
          if (t.has_drift_writer()) {
            const auto& w = t.drift_writer();
            std::cout << "  drift written by: " << w.comm() << " (pid " << w.pid()
                      << (w.unit().empty() ? "" : ", unit " + w.unit())
                      << (w.container().empty() ? "" : ", container " + w.container()) << ")\n";
          } else if (!t.writer_note().empty()) {
            std::cout << "  drift written by: " << t.writer_note() << "\n";
          }
        }
        Table chains({"  CHAIN", "KIND", "GUARDED RULES"});
        for (const auto& c : t.chains()) {
          chains.add({"  " + c.name(), c.builtin() ? "built-in (" + c.policy() + ")" : "guarded",
                      std::to_string(c.guarded_rules()) + (c.builtin() ? " jumps" : "")});
        }
        if (!t.chains().empty()) chains.print(std::cout);
        if (args->rules) {
          for (const auto& c : t.chains()) {
            for (const auto& r : c.rules()) std::cout << "    " << r << "\n";
          }
        }
      }
      return kExitOk;
    };
  });
}

}  // namespace ng::ngctl
