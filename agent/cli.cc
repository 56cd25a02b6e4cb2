#include "agent/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "agent/config/config_flags.h"
#include "agent/config/config_loader.h"
#include "agent/config/config_reference.h"
#include "core/files.h"

namespace ng::agent {
namespace {

constexpr const char* kDescription =
    "nodeguard: the per-node agent that keeps a Kubernetes node's network plumbing intact.\n"
    "It watches iptables (legacy and nft) and firewalld and puts back the CNI hostPort and\n"
    "kube-proxy/Calico chains within milliseconds of a flush, checks BGP sessions and the routes\n"
    "to every peer's pod blocks, turns known failures in container and kubelet logs into node\n"
    "conditions, and exports it all over gRPC (ngctl, a central controller) and Prometheus.\n";

constexpr const char* kFooter =
    "Every config key is also a flag: the key's dotted path with dashes, e.g.\n"
    "netfilter.poll_interval -> --netfilter-poll-interval 50ms. Lists take YAML or commas\n"
    "(--logs-files /a.log,/b.log); maps and object lists take YAML flow syntax\n"
    "(--routes-peers '[{node_ip: 192.168.2.10, blocks: [10.244.2.0/26]}]').\n"
    "Precedence: defaults < --config file < flags.\n\n"
    "Examples:\n"
    "  nodeguard --config /etc/nodeguard/nodeguard.yaml\n"
    "  nodeguard --config nodeguard.yaml --check-config\n"
    "  nodeguard --dry-run --log-level debug --metrics-listen 127.0.0.1:9746\n"
    "  nodeguard --print-config > nodeguard.yaml\n\n"
    "Exit codes: 0 ok, 1 runtime failure (cannot bind, ...), 2 usage or config error.\n"
    "Docs: docs/configuration.md, docs/operations.md, docs/metrics.md, docs/api.md.";

std::string type_name(const std::string& type) {
  if (type == "int") return "INT";
  if (type == "number") return "NUMBER";
  if (type == "duration") return "DURATION";
  if (type == "list") return "LIST";
  if (type == "map") return "YAML-MAP";
  if (type == "objects") return "YAML-LIST";
  return "STRING";
}

std::string group_of(const std::string& path) {
  const auto dot = path.find('.');
  if (dot == std::string::npos) return "Agent flags (each also a config key)";
  return "Config keys: " + path.substr(0, dot);
}

void print_errors(const std::vector<ConfigError>& errors) {
  for (const auto& e : errors) std::cerr << "nodeguard: config error: " << e.to_string() << "\n";
  std::cerr << "nodeguard: " << errors.size() << " config error" << (errors.size() == 1 ? "" : "s")
            << "; see --help and docs/configuration.md\n";
}

}  // namespace

CliOutcome parse_command_line(int argc, char** argv) {
  CliOutcome out;
  CLI::App app{kDescription, "nodeguard"};
  app.footer(kFooter);
  app.get_formatter()->column_width(44);
  std::string config_path;
  bool check = false, print = false, print_ref = false, version = false;
  const std::string modes = "Modes";
  app.add_option("-c,--config", config_path, "YAML config file (see config/nodeguard.yaml)")
      ->type_name("PATH")
      ->group(modes);
  app.add_flag("--check-config", check,
               "Validate the config (file and flags) and exit: 0 valid, 2 not")
      ->group(modes);
  app.add_flag("--print-config", print, "Print the effective config as YAML and exit")
      ->group(modes);
  app.add_flag("--print-config-reference", print_ref,
               "Print the reference of every config key as Markdown and exit")
      ->group(modes);
  app.add_flag("-V,--version", version, "Print the version and exit")->group(modes);

  const auto keys = describe_keys();
  std::vector<std::string> values(keys.size());
  std::vector<CLI::Option*> options(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto& k = keys[i];
    const std::string desc = k.doc + " [key " + k.path + ", default " + k.default_value + "]";
    std::string names = "--" + k.flag;
    for (const auto& a : k.aliases) names += ",--" + a;
    if (k.type == "bool") {
      options[i] = app.add_flag(names, values[i], desc);
    } else {
      options[i] = app.add_option(names, values[i], desc)->type_name(type_name(k.type));
    }
    options[i]->group(group_of(k.path));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    out.action = CliAction::kExit;
    out.exit_code = rc == 0 ? 0 : 2;
    return out;
  }
  if (version) {
    out.action = CliAction::kVersion;
    return out;
  }
  if (print_ref) {
    out.action = CliAction::kPrintReference;
    return out;
  }

  std::vector<ConfigError> errors;
  out.config_source = "defaults";
  if (!config_path.empty()) {
    core::PosixFiles files;
    auto text = files.read(config_path);
    if (!text) {
      std::cerr << "nodeguard: cannot read config file: " << text.error().message << "\n";
      out.action = CliAction::kExit;
      out.exit_code = 2;
      return out;
    }
    out.config_source = config_path;
    errors = apply_yaml(out.config, *text, config_path);
  }
  std::vector<std::pair<std::string, std::string>> overrides;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (options[i]->count() > 0) overrides.emplace_back(keys[i].path, values[i]);
  }
  if (errors.empty()) errors = apply_overrides(out.config, overrides);
  if (errors.empty()) errors = validate(out.config);
  if (!errors.empty()) {
    print_errors(errors);
    out.action = CliAction::kExit;
    out.exit_code = 2;
    return out;
  }
  if (out.config.node_name.empty()) {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0) out.config.node_name = host;
  }
  out.action = check ? CliAction::kCheckConfig : print ? CliAction::kPrintConfig : CliAction::kRun;
  return out;
}

}  // namespace ng::agent
