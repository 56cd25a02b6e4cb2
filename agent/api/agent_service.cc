#include "agent/api/agent_service.h"

#include "agent/api/proto_time.h"
#include "agent/api/unary_on_loop.h"
#include "agent/version.h"

namespace ng::agent {

grpc::ServerUnaryReactor* AgentService::GetStatus(grpc::CallbackServerContext* ctx,
                                                  const nodeguard::v1::GetStatusRequest*,
                                                  nodeguard::v1::GetStatusResponse* response) {
  return unary_on_loop(ctx, loop_, [this, response] {
    fill_status(*response);
    return grpc::Status::OK;
  });
}

void AgentService::fill_status(nodeguard::v1::GetStatusResponse& out) const {
  out.set_node_name(identity_.node_name);
  out.set_version(std::string(kVersion));
  out.set_commit(std::string(kCommit));
  out.set_dry_run(identity_.dry_run);
  *out.mutable_started_at() = to_proto(identity_.started_at);
  *out.mutable_uptime() = to_proto_duration(clock_.now() - identity_.started_mono);
  std::vector<core::ComponentStatus> plain;
  for (const auto& s : components_.statuses()) {
    auto* c = out.add_components();
    c->set_name(s.name);
    c->set_state(std::string(core::to_string(s.status.state)));
    c->set_message(s.status.message);
    for (const auto& [k, v] : s.status.details) (*c->mutable_details())[k] = v;
    plain.push_back(s.status);
  }
  out.set_verdict(std::string(to_string(health_.verdict(plain))));
}

}  // namespace ng::agent
