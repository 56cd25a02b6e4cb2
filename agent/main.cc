#include <csignal>
#include <iostream>

#include "agent/cli.h"
#include "agent/config/config_printer.h"
#include "agent/config/config_reference.h"
#include "agent/runtime/agent.h"
#include "agent/version.h"
#include "core/log.h"

int main(int argc, char** argv) {
  using namespace ng;
  // A closed stdout (log shipper gone) must not kill the agent.
  std::signal(SIGPIPE, SIG_IGN);
  agent::CliOutcome cli = agent::parse_command_line(argc, argv);
  switch (cli.action) {
    case agent::CliAction::kExit:
      return cli.exit_code;
    case agent::CliAction::kVersion:
      std::cout << "nodeguard " << agent::kVersion << " (commit " << agent::kCommit << ", "
                << agent::kCompiler << ")\n";
      return 0;
    case agent::CliAction::kPrintReference:
      std::cout << agent::render_reference_markdown();
      return 0;
    case agent::CliAction::kCheckConfig:
      std::cout << "nodeguard: config OK (" << cli.config_source << ")\n";
      return 0;
    case agent::CliAction::kPrintConfig:
      std::cout << agent::render_yaml(cli.config, true);
      return 0;
    case agent::CliAction::kRun:
      break;
  }
  auto level = core::parse_log_level(cli.config.log_level).value_or(core::LogLevel::kInfo);
  core::Logger log(std::make_shared<core::FdLogSink>(1), level);
  log.info("config loaded", {{"source", cli.config_source}});
  agent::Agent daemon(std::move(cli.config), log);
  return daemon.run();
}
