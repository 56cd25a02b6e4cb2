#pragma once

#include <string>
#include <string_view>

namespace ng::agent {

// Who may call a method (docs/api.md, "Roles").
enum class Role {
  kReadOnly,  // any verified TLS client; any uid the unix socket accepts
  kLogs,      // api.allowed_log_clients on TCP, api.allowed_log_uids on the unix socket
  kMutating,  // api.allowed_clients on TCP; any uid the unix socket accepts
};

// What the API's security checks need to know about a method, by its full gRPC name
// ("/nodeguard.v1.Netfilter/Repair"). One table for every service, including services added
// later: a new mutating method is one line in kMutatingMethods (call_policy.cc), a method that
// returns node logs one line in kLogMethods; everything else is read-only.
struct MethodTraits {
  bool mutating = false;   // changes the node: needs an allowed client identity on TCP
  bool streaming = false;  // holds a stream slot (api.max_streams) instead of a rate token
  bool known = false;      // a method compiled into the agent; others are "unknown" in metrics
  Role role = Role::kReadOnly;
};

// The method label of nodeguard_api_requests_total: the full name of a known method, else
// "unknown". A fixed set however many made-up names clients send.
std::string method_label(std::string_view full_method);

MethodTraits method_traits(std::string_view full_method);

// "/nodeguard.v1.Agent/GetHealth" -> "nodeguard.v1.Agent.GetHealth"; empty when malformed.
std::string method_descriptor_name(std::string_view full_method);

}  // namespace ng::agent
