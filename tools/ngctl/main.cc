#include <grpc/support/log.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "core/config_binder.h"
#include "tools/ngctl/command.h"
#include "tools/ngctl/connection.h"

int main(int argc, char** argv) {
  using namespace ng::ngctl;
  // Probing a connection the agent closes must not kill us.
  std::signal(SIGPIPE, SIG_IGN);
  // gRPC's own log lines (handshake failures, ...) would repeat what ngctl explains in one
  // line; GRPC_VERBOSITY=debug brings them back.
  if (!std::getenv("GRPC_VERBOSITY")) gpr_set_log_function([](gpr_log_func_args*) {});
  CLI::App app{
      "ngctl: query and drive nodeguard agents.\n"
      "Talks gRPC to one agent over its unix socket (default) or a TLS TCP address.\n",
      "ngctl"};
  app.footer(
      "Examples:\n"
      "  ngctl status\n"
      "  ngctl rules -t nat\n"
      "  ngctl repair --dry-run\n"
      "  ngctl logs -f -n kube-system --regex 'error'\n"
      "  ngctl --socket /run/nodeguard/nodeguard.sock status -o json\n"
      "  ngctl --addr node-a:9748 --tls-ca ca.pem --tls-cert me.pem --tls-key me.key status\n"
      "  ngctl watch --new\n"
      "  ngctl fleet --targets nodes.txt --tls-ca ca.pem --tls-cert me.pem --tls-key me.key\n\n"
      "Exit codes: 0 the agent answered, 1 unreachable, 2 usage error, 3 the agent refused or "
      "failed the call.");
  app.require_subcommand(1);
  app.fallthrough();  // connection flags work before or after the subcommand
  app.get_formatter()->column_width(36);
  ClientOptions opts;
  std::string timeout_text = "5s";
  add_client_flags(app, opts, timeout_text);
  Runner run;
  add_status_command(app, opts, run);
  add_routes_command(app, opts, run);
  add_peers_command(app, opts, run);
  add_watch_command(app, opts, run);
  add_fleet_command(app, opts, run);
  add_rules_command(app, opts, run);
  add_repair_command(app, opts, run);
  add_forget_command(app, opts, run);
  add_logs_command(app, opts, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  auto timeout = ng::core::parse_duration(timeout_text);
  if (!timeout || timeout->count() <= 0) {
    std::cerr << "ngctl: --timeout: expected a duration like 2s or 500ms, got \"" << timeout_text
              << "\"\n";
    return kExitUsage;
  }
  opts.timeout = *timeout;
  return run ? run() : kExitUsage;
}
