#include "agent/api/health_proto.h"

#include "agent/api/proto_time.h"

namespace ng::agent {

void to_proto(const RecordedEvent& in, nodeguard::v1::Event& out) {
  out.set_seq(in.seq);
  *out.mutable_time() = to_proto(in.time);
  out.set_source(in.event.source);
  out.set_reason(in.event.reason);
  out.set_message(in.event.message);
  out.set_severity(std::string(core::to_string(in.event.severity)));
  for (const auto& [k, v] : in.event.attributes) (*out.mutable_attributes())[k] = v;
}

void to_proto(const Condition& in, nodeguard::v1::Condition& out) {
  out.set_type(in.type);
  out.set_status(in.active ? "True" : "False");
  out.set_reason(in.reason);
  out.set_message(in.message);
  out.set_severity(std::string(core::to_string(in.severity)));
  *out.mutable_since() = to_proto(in.since);
  *out.mutable_last_transition_time() = to_proto(in.last_transition);
  *out.mutable_last_heartbeat_time() = to_proto(in.last_update);
}

}  // namespace ng::agent
