#pragma once

#include <string>
#include <string_view>

namespace ng::agent {

// What the API's security checks need to know about a method, by its full gRPC name
// ("/nodeguard.v1.Netfilter/Repair"). One table for every service, including services added
// later: a new mutating method is one line in kMutatingMethods (call_policy.cc); everything
// else is read-only.
struct MethodTraits {
  bool mutating = false;   // changes the node: needs an allowed client identity on TCP
  bool streaming = false;  // holds a stream slot (api.max_streams) instead of a rate token
};

MethodTraits method_traits(std::string_view full_method);

// "/nodeguard.v1.Agent/GetHealth" -> "nodeguard.v1.Agent.GetHealth"; empty when malformed.
std::string method_descriptor_name(std::string_view full_method);

}  // namespace ng::agent
