#pragma once

#include "agent/health/health_model.h"
#include "nodeguard/v1/agent.pb.h"

namespace ng::agent {

// The health model's records as API messages.
void to_proto(const RecordedEvent& in, nodeguard::v1::Event& out);
void to_proto(const Condition& in, nodeguard::v1::Condition& out);

}  // namespace ng::agent
