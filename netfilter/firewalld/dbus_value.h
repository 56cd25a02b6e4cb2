#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace ng::netfilter::firewalld {

// One D-Bus value, decoded whole: basic types, arrays, structs and dictionaries (variants are
// unwrapped into the value they hold). What the bus seam hands out, so the firewalld logic never
// sees sd-bus types and tests can build answers by hand or from recorded `busctl --json` output.
struct DbusValue {
  struct Array {
    std::vector<DbusValue> items;
  };
  struct Struct {
    std::vector<DbusValue> fields;
  };
  struct Dict {
    std::map<std::string, DbusValue> entries;  // keys as text (firewalld only uses strings)
  };
  using Data = std::variant<std::monostate, bool, std::int64_t, std::uint64_t, double, std::string,
                            Array, Struct, Dict>;
  Data data;

  DbusValue() = default;
  DbusValue(Data d) : data(std::move(d)) {}  // NOLINT(google-explicit-constructor)
  static DbusValue str(std::string s) { return DbusValue(Data(std::move(s))); }
  static DbusValue boolean(bool b) { return DbusValue(Data(b)); }
  static DbusValue strings(const std::vector<std::string>& v);
  static DbusValue array(std::vector<DbusValue> v) { return DbusValue(Data(Array{std::move(v)})); }
  static DbusValue tuple(std::vector<DbusValue> v) { return DbusValue(Data(Struct{std::move(v)})); }
  static DbusValue dict(std::map<std::string, DbusValue> m) {
    return DbusValue(Data(Dict{std::move(m)}));
  }

  const std::string* as_string() const { return std::get_if<std::string>(&data); }
  std::optional<bool> as_bool() const;
  const Array* as_array() const { return std::get_if<Array>(&data); }
  const Struct* as_struct() const { return std::get_if<Struct>(&data); }
  const Dict* as_dict() const { return std::get_if<Dict>(&data); }
  // An array of strings; nullopt when this is anything else (an empty array is fine).
  std::optional<std::vector<std::string>> as_strings() const;
  // The entry of a dictionary, or null.
  const DbusValue* get(const std::string& key) const;

  // Short text for logs and error messages ("[\"ssh\",\"dhcpv6-client\"]"), cut at `max` bytes.
  std::string describe(size_t max = 200) const;
};

}  // namespace ng::netfilter::firewalld
