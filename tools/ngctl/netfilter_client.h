#pragma once

#include <memory>
#include <string>

#include "nodeguard/v1/netfilter.grpc.pb.h"
#include "tools/ngctl/connection.h"

namespace CLI {
class App;
}

namespace ng::ngctl {

// --backend, --family, -t/--table: which guarded tables a netfilter command is about.
struct TableFilterArgs {
  std::string backend, family, table;
};
void add_table_filter_flags(CLI::App* cmd, TableFilterArgs& args);

// Copies the filter into a ListRulesRequest or RepairRequest.
template <class Request>
void set_filter(Request& req, const TableFilterArgs& f) {
  req.set_backend(f.backend);
  req.set_family(f.family);
  req.set_table(f.table);
}

// A nodeguard.v1.Netfilter stub for the target; null (after printing why) on bad TLS files.
std::unique_ptr<nodeguard::v1::Netfilter::Stub> netfilter_stub(const ClientOptions& opts);

}  // namespace ng::ngctl
