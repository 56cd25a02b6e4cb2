#pragma once

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/kube/kube_transport.h"

namespace ng::testing {

// A stateful stand-in for kube-apiserver behind the KubeTransport seam: one Node (conditions
// merged by type with $patch: delete, taints replaced, resourceVersion preconditions -> 409),
// Events (create, 409 on a taken name, patch, 404 on an unknown one). Answers are queued and
// delivered by deliver()/deliver_all(), so a test decides when the loop sees them. Faults:
// `down` (no answer: status 0), `fail_next` (status codes for the next requests), `conflicts`
// (the next N guarded node patches find the node changed).
class FakeKubeApi final : public agent::kube::KubeTransport {
 public:
  using json = nlohmann::json;

  explicit FakeKubeApi(std::string name = "node-a") : node_name(std::move(name)) {
    node = json{
        {"kind", "Node"},
        {"apiVersion", "v1"},
        {"metadata", {{"name", node_name}, {"resourceVersion", "1"}}},
        {"spec", {{"taints", json::array({{{"key", "other/team"}, {"effect", "NoSchedule"}}})}}},
        {"status",
         {{"conditions", json::array({{{"type", "Ready"},
                                       {"status", "True"},
                                       {"reason", "KubeletReady"},
                                       {"message", "ok"}}})}}}};
  }

  void send(agent::kube::KubeRequest req,
            std::function<void(agent::kube::KubeResponse)> done) override {
    requests.push_back(req);
    queue_.push_back([this, req = std::move(req), done = std::move(done)] { done(answer(req)); });
  }
  void shutdown() override { queue_.clear(); }

  // Delivers queued answers (and those their callbacks queue), up to `max`.
  size_t deliver_all(size_t max = 1000) {
    size_t n = 0;
    while (!queue_.empty() && n < max) {
      auto fn = std::move(queue_.front());
      queue_.pop_front();
      fn();
      ++n;
    }
    return n;
  }
  size_t queued() const { return queue_.size(); }

  const json* condition(const std::string& type) const {
    for (const auto& c : node["status"]["conditions"]) {
      if (c["type"] == type) return &c;
    }
    return nullptr;
  }
  std::vector<std::string> taint_keys() const {
    std::vector<std::string> out;
    for (const auto& t : node["spec"]["taints"]) out.push_back(t["key"]);
    return out;
  }
  size_t count(const std::string& verb, const std::string& path_part = "") const {
    size_t n = 0;
    for (const auto& r : requests) {
      n += r.verb == verb && r.path.find(path_part) != std::string::npos;
    }
    return n;
  }
  // Someone else writes the node (kubelet's heartbeat, kubectl taint).
  void bump() { node["metadata"]["resourceVersion"] = std::to_string(++rv_); }

  std::string node_name;
  json node;
  std::map<std::string, json> events;  // by name
  std::vector<agent::kube::KubeRequest> requests;
  bool down = false;
  std::deque<int> fail_next;
  std::optional<core::Duration> retry_after;
  int conflicts = 0;

 private:
  agent::kube::KubeResponse answer(const agent::kube::KubeRequest& req) {
    agent::kube::KubeResponse r;
    if (down) {
      r.error = "connect: Connection refused";
      return r;
    }
    if (!fail_next.empty()) {
      r.status = fail_next.front();
      fail_next.pop_front();
      r.retry_after = retry_after;
      return r;
    }
    const std::string node_path = "/api/v1/nodes/" + node_name;
    const std::string ev_path = "/api/v1/namespaces/default/events";
    if (req.path == node_path && req.verb == "GET") return ok(node);
    if (req.path == node_path + "/status" && req.verb == "PATCH") {
      if (req.content_type != "application/strategic-merge-patch+json") return status(415);
      auto patch = json::parse(req.body);
      auto& conds = node["status"]["conditions"];
      for (const auto& c : patch["status"]["conditions"]) {
        auto it = std::find_if(conds.begin(), conds.end(),
                               [&](const json& x) { return x["type"] == c["type"]; });
        if (c.contains("$patch")) {
          if (it != conds.end()) conds.erase(it);
        } else if (it != conds.end()) {
          it->merge_patch(c);
        } else {
          conds.push_back(c);
        }
      }
      bump();
      return ok(node);
    }
    if (req.path == node_path && req.verb == "PATCH") {
      if (req.content_type != "application/merge-patch+json") return status(415);
      auto patch = json::parse(req.body);
      if (patch["metadata"]["resourceVersion"] != node["metadata"]["resourceVersion"]) {
        return status(409);
      }
      if (conflicts > 0) {
        --conflicts;
        bump();
        return status(409);
      }
      patch["metadata"].erase("resourceVersion");
      node.merge_patch(patch);
      bump();
      return ok(node);
    }
    if (req.path == ev_path && req.verb == "POST") {
      auto ev = json::parse(req.body);
      std::string name = ev["metadata"]["name"];
      if (events.count(name)) return status(409);
      events[name] = ev;
      return ok(ev, 201);
    }
    if (req.path.rfind(ev_path + "/", 0) == 0 && req.verb == "PATCH") {
      std::string name = req.path.substr(ev_path.size() + 1);
      if (!events.count(name)) return status(404);
      events[name].merge_patch(json::parse(req.body));
      return ok(events[name]);
    }
    return status(404);
  }
  static agent::kube::KubeResponse ok(const json& j, int code = 200) {
    agent::kube::KubeResponse r;
    r.status = code;
    r.body = j.dump();
    return r;
  }
  static agent::kube::KubeResponse status(int code) {
    agent::kube::KubeResponse r;
    r.status = code;
    r.body = R"({"kind":"Status"})";
    return r;
  }

  std::deque<std::function<void()>> queue_;
  int rv_ = 1;
};

}  // namespace ng::testing
