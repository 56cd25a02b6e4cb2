#pragma once

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "netfilter/firewalld/dbus_value.h"
#include "netfilter/firewalld/policy_query.h"
#include "tests/fakes/fake_bus.h"

namespace ng::testing {

// The real firewalld's answers, recorded by tests/integration/firewalld/capture_dbus_answers.sh
// as `busctl --json=short` prints them: {"type": "<signature>", "data": [values...]}.
inline std::string firewalld_data_dir(const std::string& scenario) {
  return std::string(NG_FIREWALLD_TEST_DATA) + "/" + scenario;
}

// End of the complete type starting at `pos` in a D-Bus signature.
inline size_t dbus_type_end(const std::string& sig, size_t pos) {
  if (pos >= sig.size()) throw std::runtime_error("bad signature " + sig);
  const char c = sig[pos];
  if (c == 'a') return dbus_type_end(sig, pos + 1);
  if (c == '(' || c == '{') {
    const char close = c == '(' ? ')' : '}';
    size_t p = pos + 1;
    while (sig.at(p) != close) p = dbus_type_end(sig, p);
    return p + 1;
  }
  return pos + 1;
}

// One JSON value of busctl's output, typed by `sig` (one complete type).
inline netfilter::firewalld::DbusValue from_busctl(const nlohmann::json& j,
                                                   const std::string& sig) {
  using netfilter::firewalld::DbusValue;
  switch (sig.at(0)) {
    case 'a': {
      if (sig.at(1) == '{') {
        const std::string value_sig = sig.substr(3, sig.size() - 4);
        std::map<std::string, DbusValue> m;
        for (const auto& [k, v] : j.items()) m[k] = from_busctl(v, value_sig);
        return DbusValue::dict(std::move(m));
      }
      std::vector<DbusValue> items;
      for (const auto& e : j) items.push_back(from_busctl(e, sig.substr(1)));
      return DbusValue::array(std::move(items));
    }
    case '(': {
      std::vector<DbusValue> fields;
      size_t p = 1, i = 0;
      while (sig.at(p) != ')') {
        const size_t end = dbus_type_end(sig, p);
        fields.push_back(from_busctl(j.at(i++), sig.substr(p, end - p)));
        p = end;
      }
      return DbusValue::tuple(std::move(fields));
    }
    case 'v':
      return from_busctl(j.at("data"), j.at("type").get<std::string>());
    case 's':
    case 'o':
    case 'g':
      return DbusValue::str(j.get<std::string>());
    case 'b':
      return DbusValue::boolean(j.get<bool>());
    case 'd':
      return DbusValue(DbusValue::Data(j.get<double>()));
    case 'x':
    case 'i':
    case 'n':
    case 'h':
      return DbusValue(DbusValue::Data(j.get<std::int64_t>()));
    default:
      return DbusValue(DbusValue::Data(j.get<std::uint64_t>()));
  }
}

// Every value of one recorded answer file.
inline std::vector<netfilter::firewalld::DbusValue> load_busctl_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("missing test data " + path);
  const auto j = nlohmann::json::parse(in);
  const std::string sig = j.at("type").get<std::string>();
  std::vector<netfilter::firewalld::DbusValue> out;
  size_t p = 0, i = 0;
  while (p < sig.size()) {
    const size_t end = dbus_type_end(sig, p);
    out.push_back(from_busctl(j.at("data").at(i++), sig.substr(p, end - p)));
    p = end;
  }
  return out;
}

inline netfilter::firewalld::DbusValue load_answer(const std::string& scenario,
                                                   const std::string& file) {
  return load_busctl_file(firewalld_data_dir(scenario) + "/" + file).at(0);
}

// Puts every recorded answer of a scenario into the fake bus, under the call that asked for it
// (file names: <member>[-<arg>].json; Get-<property>.json for properties).
inline void load_scenario(FakeBus& bus, const std::string& scenario) {
  namespace fw = netfilter::firewalld;
  for (const auto& e : std::filesystem::directory_iterator(firewalld_data_dir(scenario))) {
    const std::string name = e.path().stem().string();
    const auto dash = name.find('-');
    const std::string member = name.substr(0, dash);
    const std::string arg = dash == std::string::npos ? "" : name.substr(dash + 1);
    auto reply = FakeBus::ok(load_busctl_file(e.path().string()));
    if (member == "Get") {
      const std::string iface =
          arg == "FirewallBackend" ? fw::kConfigInterface : fw::kFirewalldName;
      bus.answer(fw::kPropertiesInterface, "Get", {iface, arg}, reply);
    } else if (member == "getActiveZones" || member.rfind("getZoneSettings", 0) == 0) {
      bus.answer(fw::kZoneInterface, member,
                 arg.empty() ? std::vector<std::string>{} : std::vector<std::string>{arg}, reply);
    } else {
      bus.answer(fw::kFirewalldName, member,
                 arg.empty() ? std::vector<std::string>{} : std::vector<std::string>{arg}, reply);
    }
  }
}

}  // namespace ng::testing
