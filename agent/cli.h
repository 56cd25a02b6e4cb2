#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/config/agent_config.h"

namespace ng::agent {

enum class CliAction { kRun, kCheckConfig, kPrintConfig, kPrintReference, kVersion, kExit };

struct CliOutcome {
  CliAction action = CliAction::kRun;
  int exit_code = 0;          // for kExit (help, usage or config errors)
  std::string config_source;  // the file read, or "defaults"
  AgentConfig config;
};

// Parses the command line and the config file into the effective config. Usage and config
// errors are printed to stderr naming the key and where it came from, and give exit code 2.
CliOutcome parse_command_line(int argc, char** argv);

}  // namespace ng::agent
