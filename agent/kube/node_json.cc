#include "agent/kube/node_json.h"

#include <ctime>

#include <nlohmann/json.hpp>

namespace ng::agent::kube {

using nlohmann::json;

namespace {

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

json condition_json(const NodeCondition& c) {
  json j = {{"type", c.type}, {"status", c.status}, {"reason", c.reason}, {"message", c.message}};
  if (!c.last_heartbeat_time.empty()) j["lastHeartbeatTime"] = c.last_heartbeat_time;
  if (!c.last_transition_time.empty()) j["lastTransitionTime"] = c.last_transition_time;
  return j;
}

json taint_json(const Taint& t) {
  json j = {{"key", t.key}, {"effect", t.effect}};
  if (!t.value.empty()) j["value"] = t.value;
  if (!t.time_added.empty()) j["timeAdded"] = t.time_added;
  return j;
}

}  // namespace

core::Result<NodeView> parse_node(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return core::EnvError{core::EnvErrorKind::kInvalidInput, "node: the answer is not JSON"};
  }
  if (str(j, "kind") != "Node" || !j.contains("metadata") || !j["metadata"].is_object()) {
    return core::EnvError{core::EnvErrorKind::kInvalidInput, "node: the answer is not a Node"};
  }
  NodeView v;
  v.name = str(j["metadata"], "name");
  v.resource_version = str(j["metadata"], "resourceVersion");
  if (auto s = j.find("status"); s != j.end() && s->is_object()) {
    if (auto cs = s->find("conditions"); cs != s->end() && cs->is_array()) {
      for (const auto& c : *cs) {
        if (!c.is_object()) continue;
        NodeCondition nc{str(c, "type"),
                         str(c, "status"),
                         str(c, "reason"),
                         str(c, "message"),
                         str(c, "lastHeartbeatTime"),
                         str(c, "lastTransitionTime")};
        if (!nc.type.empty()) v.conditions[nc.type] = nc;
      }
    }
  }
  if (auto sp = j.find("spec"); sp != j.end() && sp->is_object()) {
    if (auto ts = sp->find("taints"); ts != sp->end() && ts->is_array()) {
      for (const auto& t : *ts) {
        if (!t.is_object()) continue;
        v.taints.push_back(
            Taint{str(t, "key"), str(t, "value"), str(t, "effect"), str(t, "timeAdded")});
      }
    }
  }
  return v;
}

std::string rfc3339(core::WallTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string conditions_patch(const std::vector<NodeCondition>& set,
                             const std::vector<std::string>& remove) {
  json list = json::array();
  for (const auto& c : set) list.push_back(condition_json(c));
  for (const auto& type : remove) list.push_back({{"type", type}, {"$patch", "delete"}});
  return json{{"status", {{"conditions", list}}}}.dump();
}

std::optional<std::vector<Taint>> reconcile_taints(const std::vector<Taint>& current,
                                                   const std::map<std::string, std::string>& want,
                                                   const std::string& prefix,
                                                   const std::string& now) {
  std::vector<Taint> out;
  std::map<std::string, std::string> missing = want;
  bool changed = false;
  for (const auto& t : current) {
    if (t.key.rfind(prefix, 0) != 0) {
      out.push_back(t);  // someone else's: untouched, in place
      continue;
    }
    auto it = missing.find(t.key);
    if (it != missing.end() && it->second == t.effect) {
      out.push_back(t);
      missing.erase(it);
    } else {
      changed = true;  // ours, no longer wanted (or with another effect)
    }
  }
  for (const auto& [key, effect] : missing) {
    out.push_back(Taint{key, "", effect, effect == "NoExecute" ? now : ""});
    changed = true;
  }
  if (!changed) return std::nullopt;
  return out;
}

std::string taints_patch(const std::vector<Taint>& taints, const std::string& resource_version) {
  json list = json::array();
  for (const auto& t : taints) list.push_back(taint_json(t));
  // An empty list must be sent as [] (null would also clear, but [] reads better in audit logs).
  return json{{"metadata", {{"resourceVersion", resource_version}}}, {"spec", {{"taints", list}}}}
      .dump();
}

std::string event_body(const NodeEvent& e, const std::string& reporting_instance) {
  json j = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", e.name}, {"namespace", "default"}}},
      {"involvedObject",
       {{"kind", "Node"}, {"name", e.node}, {"uid", e.node}, {"apiVersion", "v1"}}},
      {"reason", e.reason},
      {"message", e.message},
      {"type", e.type},
      {"count", e.count},
      {"firstTimestamp", e.first_time},
      {"lastTimestamp", e.last_time},
      {"source", {{"component", "nodeguard"}, {"host", e.node}}},
      {"reportingComponent", "nodeguard"},
      {"reportingInstance", reporting_instance},
  };
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string event_update_patch(const NodeEvent& e) {
  return json{{"count", e.count}, {"lastTimestamp", e.last_time}, {"message", e.message}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

std::string node_path(const std::string& node) {
  return "/api/v1/nodes/" + node;
}

std::string events_path(const std::string& ns) {
  return "/api/v1/namespaces/" + ns + "/events";
}

}  // namespace ng::agent::kube
