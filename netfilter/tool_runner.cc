#include "netfilter/tool_runner.h"

namespace ng::netfilter {

core::Result<std::string> run_tool(core::ProcessRunner& runner, std::vector<std::string> argv,
                                   std::string stdin_data, std::chrono::milliseconds timeout,
                                   std::map<std::string, std::string> env) {
  core::ProcessRequest req;
  req.argv = std::move(argv);
  req.stdin_data = std::move(stdin_data);
  req.timeout = timeout;
  req.extra_env = std::move(env);
  auto r = runner.run(req);
  if (!r) return r.error();
  if (r->exit_code != 0) {
    std::string err = r->err;
    if (auto nl = err.find('\n'); nl != std::string::npos) err.resize(nl);
    auto kind = core::EnvErrorKind::kIo;
    if (err.find("Permission denied") != std::string::npos ||
        err.find("Operation not permitted") != std::string::npos) {
      kind = core::EnvErrorKind::kPermission;
    } else if (err.find("xtables lock") != std::string::npos) {
      kind = core::EnvErrorKind::kLockBusy;
    }
    return core::EnvError{kind, req.argv[0] + " exited " + std::to_string(r->exit_code) +
                                    (err.empty() ? "" : ": " + err)};
  }
  return std::move(r->out);
}

}  // namespace ng::netfilter
