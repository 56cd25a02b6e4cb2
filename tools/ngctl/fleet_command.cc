#include <google/protobuf/util/json_util.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "core/json_writer.h"
#include "nodeguard/v1/agent.grpc.pb.h"
#include "tools/ngctl/command.h"
#include "tools/ngctl/fleet_endpoints.h"
#include "tools/ngctl/fleet_targets.h"
#include "tools/ngctl/health_text.h"
#include "tools/ngctl/output.h"

namespace ng::ngctl {
namespace {

struct FleetFlags {
  std::string targets_file;
  std::string dns;
  std::string endpoints;   // NAMESPACE/SERVICE[:PORT]: the Service's EndpointSlices
  std::string kubeconfig;  // for --endpoints; default in-cluster, $KUBECONFIG, ~/.kube/config
  std::vector<std::string> addresses;
  int parallel = 64;
};

struct TargetResult {
  FleetTarget target;
  bool answered = false;   // GetHealth returned OK
  bool reachable = false;  // something answered at the address (maybe refusing us)
  nodeguard::v1::GetHealthResponse health;
  std::string error;
  long long elapsed_ms = 0;
};

std::string compact_json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  o.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

std::string json_string(std::string_view s) {
  std::string out;
  core::append_json_string(out, s);
  return out;
}

TargetResult query(const ChannelFactory& channels, const ClientOptions& opts,
                   const FleetTarget& target) {
  TargetResult r;
  r.target = target;
  const auto start = std::chrono::steady_clock::now();
  auto stub = nodeguard::v1::Agent::NewStub(channels.tls(target.address, target.server_name));
  grpc::ClientContext ctx;
  set_deadline(ctx, opts.timeout);
  const auto status = stub->GetHealth(&ctx, nodeguard::v1::GetHealthRequest(), &r.health);
  if (status.ok()) {
    r.answered = r.reachable = true;
  } else {
    ClientOptions probe = opts;
    if (!target.server_name.empty()) probe.tls_server_name = target.server_name;
    const Failure f = explain_failure(status, probe, target.address);
    r.reachable = f.reachable;
    r.error = f.message;
    // The table and JSON already carry the address.
    for (const std::string& prefix : {"cannot reach nodeguard at " + target.address + ": ",
                                      "nodeguard at " + target.address + " "}) {
      if (r.error.rfind(prefix, 0) == 0) r.error.erase(0, prefix.size());
    }
  }
  r.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count();
  return r;
}

int rank(const TargetResult& r) {
  if (!r.reachable) return 0;
  if (!r.answered) return 1;
  if (r.health.verdict() == "Unhealthy") return 2;
  if (r.health.verdict() == "Degraded") return 3;
  return 4;
}

void print_table(std::vector<TargetResult> results, long long wall_ms, std::ostream& out) {
  // Worst first: people read the top of the table.
  std::stable_sort(results.begin(), results.end(),
                   [](const auto& a, const auto& b) { return rank(a) < rank(b); });
  Table t({"NODE", "ADDRESS", "VERDICT", "FAILING CONDITIONS", "LAST REPAIR"});
  int counts[5] = {};
  for (const auto& r : results) {
    ++counts[rank(r)];
    if (!r.answered) {
      t.add({"-", r.target.address, r.reachable ? "Refused" : "Unreachable", r.error, "-"});
      continue;
    }
    std::string failing;
    for (const auto& f : failing_items(r.health)) failing += (failing.empty() ? "" : ", ") + f;
    t.add({r.health.node_name(), r.target.address, r.health.verdict(),
           failing.empty() ? "-" : failing, last_repair_text(r.health)});
  }
  t.print(out);
  out << "\n"
      << results.size() << (results.size() == 1 ? " target in " : " targets in ") << wall_ms
      << " ms: " << counts[4] << " Healthy, " << counts[3] << " Degraded, " << counts[2]
      << " Unhealthy, " << counts[1] << " refused, " << counts[0] << " unreachable\n";
}

void print_json(const std::vector<TargetResult>& results, std::ostream& out) {
  out << "[";
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    core::JsonObjectWriter w;
    w.field("address", r.target.address).field("reachable", r.reachable).field("ok", r.answered);
    if (r.answered) {
      const auto& h = r.health;
      std::string reasons = "[";
      for (int k = 0; k < h.verdict_reasons_size(); ++k) {
        reasons += (k ? "," : "") + json_string(h.verdict_reasons(k));
      }
      std::string failing = "[";
      bool first = true;
      for (const auto& c : h.conditions()) {
        if (c.status() != "True" || c.severity() == "info") continue;
        failing += (first ? "" : ",") + compact_json(c);
        first = false;
      }
      w.field("node", h.node_name())
          .field("verdict", h.verdict())
          .raw_field("verdict_reasons", reasons + "]")
          .raw_field("failing_conditions", failing + "]")
          .raw_field("last_repair", h.has_last_repair() ? compact_json(h.last_repair()) : "null")
          .field("last_event_seq", static_cast<std::int64_t>(h.last_event_seq()))
          .field("dry_run", h.dry_run());
    } else {
      w.field("error", r.error);
    }
    w.field("elapsed_ms", static_cast<std::int64_t>(r.elapsed_ms));
    out << (i ? ",\n " : "\n ") << std::move(w).finish();
  }
  out << "\n]\n";
}

int fleet(const ClientOptions& opts, const FleetFlags& flags) {
  std::vector<FleetTarget> targets;
  std::vector<std::string> errors;
  if (!flags.targets_file.empty()) {
    std::ifstream in(flags.targets_file);
    if (!in) {
      std::cerr << "ngctl: cannot read --targets " << flags.targets_file << "\n";
      return kExitUsage;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    targets = parse_targets(ss.str(), &errors);
  }
  for (const auto& a : flags.addresses) {
    if (!is_host_port(a)) {
      errors.push_back("\"" + a + "\" is not HOST:PORT");
    } else if (std::none_of(targets.begin(), targets.end(),
                            [&](const auto& t) { return t.address == a; })) {
      targets.push_back({a, ""});
    }
  }
  if (!flags.dns.empty()) {
    std::string error;
    auto resolved = resolve_targets(flags.dns, opts.tls_server_name, &error);
    if (!error.empty()) errors.push_back(error);
    for (auto& t : resolved) targets.push_back(std::move(t));
  }
  if (!flags.endpoints.empty()) {
    EndpointsSpec spec;
    std::string error;
    if (parse_endpoints_spec(flags.endpoints, &spec, &error)) {
      auto found =
          discover_endpoints(spec, flags.kubeconfig, opts.tls_server_name, opts.timeout, &error);
      for (auto& t : found) {
        if (std::none_of(targets.begin(), targets.end(),
                         [&](const auto& x) { return x.address == t.address; })) {
          targets.push_back(std::move(t));
        }
      }
    }
    if (!error.empty()) errors.push_back(error);
  }
  if (!errors.empty()) {
    for (const auto& e : errors) std::cerr << "ngctl: fleet: " << e << "\n";
    return kExitUsage;
  }
  if (targets.empty()) {
    std::cerr << "ngctl: fleet: no targets (use --targets FILE, --dns NAME:PORT, --endpoints "
                 "NS/SERVICE[:PORT] or addresses)\n";
    return kExitUsage;
  }
  ChannelFactory channels;
  std::string error;
  if (!channels.init(opts, &error)) {
    std::cerr << "ngctl: " << error << "\n";
    return kExitUsage;
  }
  for (auto& t : targets) {
    if (t.server_name.empty()) t.server_name = opts.tls_server_name;
  }

  // Bounded parallelism: `parallel` threads take the next target until none are left, so a
  // fleet of 5,000 never opens more than `parallel` connections at once.
  const auto start = std::chrono::steady_clock::now();
  std::vector<TargetResult> results(targets.size());
  std::atomic<size_t> next{0};
  const size_t workers = std::min<size_t>(static_cast<size_t>(flags.parallel), targets.size());
  std::vector<std::thread> pool;
  for (size_t w = 0; w < workers; ++w) {
    pool.emplace_back([&] {
      for (size_t i = next++; i < targets.size(); i = next++) {
        results[i] = query(channels, opts, targets[i]);
      }
    });
  }
  for (auto& th : pool) th.join();
  const long long wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - start)
                                .count();

  if (opts.output == "json") {
    print_json(results, std::cout);
  } else {
    print_table(results, wall_ms, std::cout);
  }
  bool unreachable = false, refused = false;
  for (const auto& r : results) {
    unreachable = unreachable || !r.reachable;
    refused = refused || (r.reachable && !r.answered);
  }
  return unreachable ? kExitUnreachable : refused ? kExitRpcError : kExitOk;
}

}  // namespace

void add_fleet_command(CLI::App& app, const ClientOptions& opts, Runner& run) {
  auto* cmd = app.add_subcommand(
      "fleet", "Ask many agents (TLS) at once: one line per node, worst first, or JSON");
  cmd->footer(
      "Targets come from --targets (one HOST:PORT per line, '#' comments), --dns (every\n"
      "address a name resolves to, e.g. a headless Service), --endpoints (the addresses of a\n"
      "Service's EndpointSlices, read through the Kubernetes API: no cluster DNS needed), or\n"
      "the arguments. Each agent gets\n"
      "--timeout; at most --parallel are asked at once. The TLS flags apply to every agent;\n"
      "with --dns the certificate is checked against the DNS name, with --endpoints against\n"
      "SERVICE.NAMESPACE.svc, unless --tls-server-name.\n"
      "-o json prints one object per target, in input order: address, reachable, ok, node,\n"
      "verdict, verdict_reasons, failing_conditions, last_repair, error, elapsed_ms.\n"
      "Exit: 0 every agent answered, 1 some unreachable, 3 some refused or failed.\n"
      "Examples:\n"
      "  ngctl fleet --targets nodes.txt --tls-ca ca.pem --tls-cert me.pem --tls-key me.key\n"
      "  ngctl fleet --dns nodeguard.kube-system.svc:9748 --parallel 128 --timeout 2s -o json\n"
      "  ngctl fleet --endpoints nodeguard/nodeguard:grpc --kubeconfig ~/.kube/config");
  auto flags = std::make_shared<FleetFlags>();
  cmd->add_option("--targets", flags->targets_file, "File with one agent HOST:PORT per line")
      ->type_name("FILE");
  cmd->add_option("--dns", flags->dns, "Query every address this NAME:PORT resolves to")
      ->type_name("NAME:PORT");
  cmd->add_option("--endpoints", flags->endpoints,
                  "Query every address of this Service's EndpointSlices, NAMESPACE/SERVICE[:PORT] "
                  "(PORT: the slices' port name, default grpc, or a number); through the "
                  "Kubernetes API (RBAC: list endpointslices in NAMESPACE)");
  cmd->add_option("--kubeconfig", flags->kubeconfig,
                  "kubeconfig for --endpoints (default: in-cluster, $KUBECONFIG, ~/.kube/config)");
  cmd->add_option("--parallel", flags->parallel, "Agents queried at once")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("addresses", flags->addresses, "More agents, HOST:PORT");
  cmd->callback([&opts, &run, flags] { run = [&opts, flags] { return fleet(opts, *flags); }; });
}

}  // namespace ng::ngctl
