#include "agent/api/agent_service.h"

#include "agent/api/call_gate_interceptor.h"
#include "agent/api/health_proto.h"
#include "agent/api/proto_time.h"
#include "agent/api/unary_on_loop.h"
#include "agent/version.h"

namespace ng::agent {
namespace {

void fill_component(const core::NamedStatus& s, nodeguard::v1::ComponentStatus& c) {
  c.set_name(s.name);
  c.set_state(std::string(core::to_string(s.status.state)));
  c.set_message(s.status.message);
  for (const auto& [k, v] : s.status.details) (*c.mutable_details())[k] = v;
}

std::vector<core::ComponentStatus> plain(const std::vector<core::NamedStatus>& named) {
  std::vector<core::ComponentStatus> out;
  for (const auto& s : named) out.push_back(s.status);
  return out;
}

}  // namespace

AgentService::AgentService(core::Executor& loop, core::Clock& clock, const AgentIdentity& identity,
                           const core::ComponentRegistry& components, HealthModel& health,
                           prometheus::Registry& metrics, WatchEventsReactor::Options watch_options)
    : loop_(loop),
      clock_(clock),
      identity_(identity),
      components_(components),
      health_(health),
      watch_options_(watch_options),
      watchers_cut_(prometheus::BuildCounter()
                        .Name("nodeguard_api_watchers_cut_total")
                        .Help("WatchEvents streams ended because the client read too slowly "
                              "(more than api.watch_queue_events events waiting)")
                        .Register(metrics)
                        .Add({})) {}

grpc::ServerUnaryReactor* AgentService::GetStatus(grpc::CallbackServerContext* ctx,
                                                  const nodeguard::v1::GetStatusRequest*,
                                                  nodeguard::v1::GetStatusResponse* response) {
  return unary_on_loop(ctx, loop_, [this, response] {
    fill_status(*response);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* AgentService::GetHealth(grpc::CallbackServerContext* ctx,
                                                  const nodeguard::v1::GetHealthRequest* request,
                                                  nodeguard::v1::GetHealthResponse* response) {
  return unary_on_loop(ctx, loop_, [this, request, response] {
    fill_health(*request, *response);
    return grpc::Status::OK;
  });
}

grpc::ServerWriteReactor<nodeguard::v1::WatchEventsResponse>* AgentService::WatchEvents(
    grpc::CallbackServerContext* ctx, const nodeguard::v1::WatchEventsRequest* request) {
  auto* reactor =
      new WatchEventsReactor(ctx, loop_, clock_, health_, watch_options_, &watchers_cut_);
  if (auto refused = gate_refusal(*ctx)) {
    reactor->refuse(*refused);
  } else {
    reactor->start(*request);
  }
  return reactor;
}

void AgentService::fill_status(nodeguard::v1::GetStatusResponse& out) const {
  out.set_node_name(identity_.node_name);
  out.set_version(std::string(kVersion));
  out.set_commit(std::string(kCommit));
  out.set_dry_run(identity_.dry_run);
  *out.mutable_started_at() = to_proto(identity_.started_at);
  *out.mutable_uptime() = to_proto_duration(clock_.now() - identity_.started_mono);
  const auto statuses = components_.statuses();
  for (const auto& s : statuses) fill_component(s, *out.add_components());
  out.set_verdict(std::string(to_string(health_.verdict(plain(statuses)))));
}

void AgentService::fill_health(const nodeguard::v1::GetHealthRequest& request,
                               nodeguard::v1::GetHealthResponse& out) const {
  out.set_node_name(identity_.node_name);
  const auto statuses = components_.statuses();
  out.set_verdict(std::string(to_string(health_.verdict(plain(statuses)))));
  for (auto& reason : health_.verdict_reasons(statuses)) out.add_verdict_reasons(std::move(reason));
  for (const auto& [_, c] : health_.conditions()) to_proto(c, *out.add_conditions());
  for (const auto& s : statuses) fill_component(s, *out.add_components());
  if (const auto& repair = health_.last_repair()) to_proto(*repair, *out.mutable_last_repair());
  out.set_last_event_seq(health_.last_seq());
  if (request.recent_events() > 0) {
    for (const auto& e : health_.recent_events(request.recent_events())) {
      to_proto(e, *out.add_recent_events());
    }
  }
  *out.mutable_observed_at() = to_proto(clock_.wall_now());
  *out.mutable_started_at() = to_proto(identity_.started_at);
  out.set_dry_run(identity_.dry_run);
  out.set_version(std::string(kVersion));
}

}  // namespace ng::agent
