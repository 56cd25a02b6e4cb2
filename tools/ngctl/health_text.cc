#include "tools/ngctl/health_text.h"

#include <ctime>

#include "tools/ngctl/output.h"

namespace ng::ngctl {

std::string age(const google::protobuf::Timestamp& then, const google::protobuf::Timestamp& now) {
  if (then.seconds() == 0 && then.nanos() == 0) return "-";
  const long long s = std::max<long long>(0, now.seconds() - then.seconds());
  return format_duration_seconds(s);
}

std::vector<std::string> failing_items(const nodeguard::v1::GetHealthResponse& health) {
  std::vector<std::string> out;
  for (const auto& c : health.conditions()) {
    if (c.status() == "True" && c.severity() != "info") out.push_back(c.type());
  }
  for (const auto& c : health.components()) {
    if (c.state() == "failed" || c.state() == "degraded") {
      out.push_back("component " + c.name() + " " + c.state());
    }
  }
  return out;
}

std::string last_repair_text(const nodeguard::v1::GetHealthResponse& health) {
  if (!health.has_last_repair()) return "-";
  return health.last_repair().reason() + " " +
         age(health.last_repair().time(), health.observed_at()) + " ago";
}

std::string event_line(const nodeguard::v1::Event& e) {
  char when[32] = "-";
  const std::time_t t = static_cast<std::time_t>(e.time().seconds());
  std::tm tm{};
  if (::localtime_r(&t, &tm)) std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
  std::string line = std::to_string(e.seq()) + "  " + when + "  " + e.severity() + "  " +
                     e.source() + "  " + e.reason();
  if (!e.message().empty()) line += "  " + e.message();
  if (!e.attributes().empty()) {
    std::map<std::string, std::string> sorted(e.attributes().begin(), e.attributes().end());
    std::string attrs;
    for (const auto& [k, v] : sorted) attrs += (attrs.empty() ? "" : " ") + k + "=" + v;
    line += "  [" + attrs + "]";
  }
  return line;
}

void print_health(const nodeguard::v1::GetHealthResponse& h, std::ostream& out) {
  out << "Node:         " << h.node_name() << "\n"
      << "Verdict:      " << h.verdict() << "\n";
  for (const auto& r : h.verdict_reasons()) out << "              - " << r << "\n";
  out << "Last repair:  " << last_repair_text(h);
  if (h.has_last_repair() && !h.last_repair().message().empty()) {
    out << " (" << h.last_repair().message() << ")";
  }
  out << "\n"
      << "Mode:         " << (h.dry_run() ? "dry-run (observe only)" : "repair") << "\n"
      << "Version:      " << h.version() << ", up " << age(h.started_at(), h.observed_at()) << "\n"
      << "Events:       " << h.last_event_seq() << " recorded (ngctl watch --after-seq "
      << h.last_event_seq() << " follows from here)\n\n";
  Table conditions({"CONDITION", "STATUS", "SEVERITY", "REASON", "FOR", "MESSAGE"});
  for (const auto& c : h.conditions()) {
    conditions.add({c.type(), c.status(), c.severity(), c.reason(),
                    age(c.last_transition_time(), h.observed_at()), c.message()});
  }
  if (h.conditions().empty()) conditions.add({"(none reported)", "", "", "", "", ""});
  conditions.print(out);
  out << "\n";
  Table components({"COMPONENT", "STATE", "MESSAGE"});
  for (const auto& c : h.components()) components.add({c.name(), c.state(), c.message()});
  if (h.components().empty()) components.add({"(none)", "", ""});
  components.print(out);
  if (!h.recent_events().empty()) {
    out << "\nRecent events:\n";
    for (const auto& e : h.recent_events()) out << "  " << event_line(e) << "\n";
  }
}

}  // namespace ng::ngctl
