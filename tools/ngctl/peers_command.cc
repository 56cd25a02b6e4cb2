#include <google/protobuf/util/json_util.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/strings.h"
#include "tools/ngctl/command.h"
#include "tools/ngctl/network_client.h"
#include "tools/ngctl/output.h"

namespace ng::ngctl {
namespace {

std::string join(const google::protobuf::RepeatedPtrField<std::string>& v, const char* sep) {
  return ng::core::join(std::vector<std::string>(v.begin(), v.end()), sep);
}

int list_peers(const ClientOptions& opts) {
  int rc = kExitOk;
  auto stub = network_stub(opts, &rc);
  if (!stub) return rc;
  grpc::ClientContext ctx;
  set_deadline(ctx, opts.timeout);
  nodeguard::v1::ListPeersResponse resp;
  const auto status = stub->ListPeers(&ctx, {}, &resp);
  if (!status.ok()) return report_rpc_failure(status, opts);
  if (opts.output == "json") {
    std::cout << to_json(resp);
    return kExitOk;
  }
  Table t({"PEER", "NODE IP", "SUBNET", "ENCAP", "BLOCKS", "SESSION", "STATE", "SINCE", "SOURCES"});
  for (const auto& p : resp.peers()) {
    std::string session = "-", state = "-", since = "-";
    if (!p.sessions().empty()) {
      const auto& s = p.sessions(0);
      session = s.name();
      state = s.bgp_state().empty() ? s.state() : s.bgp_state();
      if (!s.last_error().empty() && state != "Established") state += " (" + s.last_error() + ")";
      since = s.since();
    }
    t.add({p.name(), p.node_ip(), p.same_subnet() ? "same" : "other",
           p.encapsulation() == "unknown" ? "-" : p.encapsulation(),
           p.blocks().empty() ? "-" : join(p.blocks(), ","), session, state, since,
           join(p.sources(), ",")});
  }
  if (resp.peers().empty()) t.add({"(none)", "", "", "", "", "", "", "", ""});
  t.print(std::cout);
  // Sessions whose neighbor is no expected peer (route reflectors, top-of-rack routers).
  std::vector<const nodeguard::v1::BgpSession*> other;
  for (const auto& s : resp.sessions()) {
    bool matched = false;
    for (const auto& p : resp.peers()) matched |= p.node_ip() == s.neighbor_address();
    if (!matched) other.push_back(&s);
  }
  if (!other.empty()) {
    std::cout << "\nOther BGP sessions:\n";
    Table o({"SESSION", "NEIGHBOR", "STATE", "SINCE", "INFO"});
    for (const auto* s : other) {
      o.add({s->name(), s->neighbor_address(), s->bgp_state().empty() ? s->state() : s->bgp_state(),
             s->since(), s->info()});
    }
    o.print(std::cout);
  }
  for (const auto& b : resp.bird_sockets()) {
    if (!b.reachable()) std::cout << "\nBIRD socket " << b.path() << ": " << b.error() << "\n";
  }
  return kExitOk;
}

int set_peers(const ClientOptions& opts, const std::string& file) {
  std::string text;
  if (file == "-") {
    std::stringstream ss;
    ss << std::cin.rdbuf();
    text = ss.str();
  } else {
    std::ifstream in(file);
    if (!in) {
      std::cerr << "ngctl: cannot read " << file << "\n";
      return kExitUsage;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  nodeguard::v1::SetExpectedPeersRequest req;
  const auto parsed = google::protobuf::util::JsonStringToMessage(text, &req);
  if (!parsed.ok()) {
    std::cerr << "ngctl: " << file
              << ": not a SetExpectedPeersRequest in JSON: " << parsed.message() << "\n";
    return kExitUsage;
  }
  int rc = kExitOk;
  auto stub = network_stub(opts, &rc);
  if (!stub) return rc;
  grpc::ClientContext ctx;
  set_deadline(ctx, opts.timeout);
  nodeguard::v1::SetExpectedPeersResponse resp;
  const auto status = stub->SetExpectedPeers(&ctx, req, &resp);
  if (!status.ok()) return report_rpc_failure(status, opts);
  if (opts.output == "json") {
    std::cout << to_json(resp);
  } else {
    std::cout << "expected peers set: " << resp.peers() << " peers, " << resp.blocks()
              << " blocks\n";
  }
  return kExitOk;
}

}  // namespace

void add_peers_command(CLI::App& app, const ClientOptions& opts, Runner& run) {
  auto* cmd = app.add_subcommand(
      "peers", "Expected peers (from BIRD, config and the controller) with their BGP sessions");
  cmd->footer(
      "Examples:\n"
      "  ngctl peers\n"
      "  ngctl peers -o json\n"
      "  ngctl peers set --file peers.json     # what a controller does with SetExpectedPeers\n\n"
      "peers.json:\n"
      "  {\"peers\": [{\"name\": \"node-c\", \"node_ip\": \"192.168.2.10\",\n"
      "               \"blocks\": [\"10.244.3.0/26\"], \"tunnel_address\": \"10.244.3.1\",\n"
      "               \"encapsulation\": \"vxlan-crosssubnet\"}],\n"
      "   \"own_blocks\": [\"10.244.1.0/26\"], \"node_address\": \"192.168.1.10/24\"}");
  auto* set = cmd->add_subcommand(
      "set", "Replace the controller's expected peers (SetExpectedPeers); {} clears them");
  auto file = std::make_shared<std::string>();
  set->add_option("-f,--file", *file, "JSON SetExpectedPeersRequest ('-' for stdin)")->required();
  cmd->callback([&opts, &run, set, file] {
    if (set->parsed()) {
      run = [&opts, file] { return set_peers(opts, *file); };
    } else {
      run = [&opts] { return list_peers(opts); };
    }
  });
}

}  // namespace ng::ngctl
