#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include <google/protobuf/util/json_util.h>

#include "core/config_binder.h"
#include "nodeguard/v1/logs.grpc.pb.h"
#include "tools/ngctl/command.h"
#include "tools/ngctl/output.h"

namespace ng::ngctl {
namespace {

struct LogsArgs {
  std::string namespace_;
  std::string pod;
  std::string container;
  std::string stream;
  std::string regex;
  std::string since;
  std::string source;
  bool follow = false;
  bool no_history = false;
  bool prefix = true;
};

// "5m" (that long ago) or an RFC 3339 time.
bool parse_since(const std::string& text, google::protobuf::Timestamp* out, std::string* error) {
  if (auto d = core::parse_duration(text)) {
    const auto t = std::chrono::system_clock::now() - *d;
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    out->set_seconds(ns / 1000000000);
    out->set_nanos(static_cast<int>(ns % 1000000000));
    return true;
  }
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end || (*end != 'Z' && *end != 0)) {
    *error =
        "--since: expected a duration (10m, 1h) or a UTC time like 2024-05-01T12:00:00Z; got \"" +
        text + "\"";
    return false;
  }
  out->set_seconds(timegm(&tm));
  return true;
}

std::string format_time(const google::protobuf::Timestamp& t) {
  char buf[40];
  const std::time_t s = t.seconds();
  std::tm tm{};
  gmtime_r(&s, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06dZ", t.nanos() / 1000);
  return std::string(buf) + frac;
}

}  // namespace

// About 100 lines of flag declarations, one per option with its help text: a list, not logic.
void add_logs_command(CLI::App& app, const ClientOptions& opts, Runner& run) {
  auto args = std::make_shared<LogsArgs>();
  auto* cmd = app.add_subcommand(
      "logs",
      "Lines from the node's container logs, kubelet's log and configured files, as the agent "
      "reads them (partial lines joined)");
  cmd->footer(
      "Examples:\n"
      "  ngctl logs -n kube-system --pod calico-node-x2x9 --since 10m\n"
      "  ngctl logs -f --source kubelet --regex 'PLEG|runtime'\n"
      "  ngctl logs -f --no-history --stream stderr -o json\n\n"
      "Without -f the current content of the matching files is printed and ngctl exits. When "
      "ngctl reads too slowly the agent drops lines rather than slow down; ngctl says how many "
      "on stderr.");
  cmd->add_option("-n,--namespace", args->namespace_, "Only this namespace");
  cmd->add_option("--pod", args->pod, "Only this pod");
  cmd->add_option("-c,--container", args->container, "Only this container");
  cmd->add_option("--stream", args->stream, "Only stdout or stderr")
      ->check(CLI::IsMember({"stdout", "stderr"}));
  cmd->add_option("--source", args->source, "Only container, kubelet or file lines")
      ->check(CLI::IsMember({"container", "kubelet", "file"}));
  cmd->add_option("--regex", args->regex, "Only lines whose message matches (PCRE syntax)");
  cmd->add_option("--since", args->since,
                  "Only lines written since: a duration (10m) or a UTC time (RFC 3339)");
  cmd->add_flag("-f,--follow", args->follow, "Keep streaming new lines until interrupted");
  cmd->add_flag("--no-history", args->no_history, "Only new lines (implies --follow)");
  cmd->add_flag("!--no-prefix", args->prefix, "Print only the messages (table output)");
  cmd->callback([&opts, &run, args] {
    run = [&opts, args]() -> int {
      nodeguard::v1::TailLogsRequest req;
      req.set_namespace_(args->namespace_);
      req.set_pod(args->pod);
      req.set_container(args->container);
      req.set_stream(args->stream);
      req.set_regex(args->regex);
      req.set_source(args->source);
      req.set_follow(args->follow);
      req.set_no_history(args->no_history);
      if (!args->since.empty()) {
        std::string error;
        if (!parse_since(args->since, req.mutable_since(), &error)) {
          std::cerr << "ngctl: " << error << "\n";
          return kExitUsage;
        }
      }
      std::string error;
      auto channel = make_channel(opts, opts.addr, &error);
      if (!channel) {
        std::cerr << "ngctl: " << error << "\n";
        return kExitUsage;
      }
      auto stub = nodeguard::v1::Logs::NewStub(channel);
      grpc::ClientContext ctx;
      // Connecting is bounded by --timeout; a followed stream then runs until interrupted.
      if (!args->follow && !args->no_history) {
        set_deadline(ctx, std::max(opts.timeout, std::chrono::milliseconds(60000)));
      }
      auto reader = stub->TailLogs(&ctx, req);
      nodeguard::v1::TailLogsResponse resp;
      std::uint64_t dropped = 0;
      while (reader->Read(&resp)) {
        if (resp.has_line()) {
          const auto& l = resp.line();
          if (opts.output == "json") {
            // One object per line for scripts (jq -c friendly).
            std::string compact;
            google::protobuf::util::JsonPrintOptions jo;
            jo.always_print_primitive_fields = true;
            jo.preserve_proto_field_names = true;
            (void)google::protobuf::util::MessageToJsonString(l, &compact, jo);
            std::cout << compact << "\n";
          } else if (args->prefix) {
            std::string origin = l.source() == "container"
                                     ? l.namespace_() + "/" + l.pod() + "/" + l.container()
                                     : l.source() + ":" + l.path();
            std::cout << format_time(l.time()) << " " << origin
                      << (l.stream().empty() ? "" : " " + l.stream()) << " " << l.message()
                      << (l.truncated() ? " [truncated]" : "") << "\n";
          } else {
            std::cout << l.message() << "\n";
          }
        } else if (resp.item_case() == nodeguard::v1::TailLogsResponse::kDropped) {
          dropped += resp.dropped();
          std::cout.flush();
          std::cerr << "ngctl: " << resp.dropped()
                    << " lines dropped by the agent: this client read too slowly\n";
        }
        if (args->follow || args->no_history) std::cout.flush();
      }
      std::cout.flush();
      const auto status = reader->Finish();
      if (!status.ok()) return report_rpc_failure(status, opts.target());
      if (dropped) std::cerr << "ngctl: " << dropped << " lines dropped in total\n";
      return kExitOk;
    };
  });
}

}  // namespace ng::ngctl
