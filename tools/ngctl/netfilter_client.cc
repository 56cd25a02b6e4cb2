#include "tools/ngctl/netfilter_client.h"

#include <CLI/CLI.hpp>

namespace ng::ngctl {

void add_table_filter_flags(CLI::App* cmd, TableFilterArgs& args) {
  cmd->add_option("--backend", args.backend, "Only this backend: legacy or nft");
  cmd->add_option("--family", args.family, "Only this family: ipv4 or ipv6");
  cmd->add_option("-t,--table", args.table, "Only this table: nat, filter, mangle, raw");
}

std::unique_ptr<nodeguard::v1::Netfilter::Stub> netfilter_stub(const ClientOptions& opts) {
  auto channel = open_channel(opts);  // prints the reason when TLS files are unusable
  if (!channel) return nullptr;
  return nodeguard::v1::Netfilter::NewStub(channel);
}

}  // namespace ng::ngctl
