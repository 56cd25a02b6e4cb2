#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"

namespace ng::core {

struct ProcessResult {
  int exit_code = 0;  // 128+N when killed by signal N
  std::string out;
  std::string err;
};

struct ProcessRequest {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  std::string stdin_data;
  std::chrono::milliseconds timeout{10000};
  std::map<std::string, std::string> extra_env;
};

// The seam for every exec (iptables-nft-restore, ip, firewall-cmd in tests). Blocking: call it
// from a worker, never from the loop. A missing binary is kMissingBinary; a timeout kills the
// child and returns kTimeout; a non-zero exit is a normal ProcessResult.
class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  virtual Result<ProcessResult> run(const ProcessRequest& request) = 0;
};

// Whether an executable is at that path, or on PATH when the name has no '/'.
bool executable_on_path(const std::string& name);

class PosixProcessRunner final : public ProcessRunner {
 public:
  Result<ProcessResult> run(const ProcessRequest& request) override;
};

}  // namespace ng::core
