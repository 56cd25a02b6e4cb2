#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "core/process_runner.h"
#include "core/result.h"

namespace ng::netfilter {

using core::executable_on_path;

// Runs an iptables tool through the ProcessRunner seam: non-zero exit becomes an EnvError
// naming the tool, its exit code and the first line of stderr.
core::Result<std::string> run_tool(core::ProcessRunner& runner, std::vector<std::string> argv,
                                   std::string stdin_data = {},
                                   std::chrono::milliseconds timeout = std::chrono::seconds(60),
                                   std::map<std::string, std::string> env = {});

}  // namespace ng::netfilter
