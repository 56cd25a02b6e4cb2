#include "netfilter/firewalld/dbus_value.h"

namespace ng::netfilter::firewalld {

namespace {

void describe_into(const DbusValue& v, std::string& out, size_t max) {
  if (out.size() > max) return;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          out += "null";
        } else if constexpr (std::is_same_v<T, bool>) {
          out += x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::string>) {
          out += '"' + x + '"';
        } else if constexpr (std::is_same_v<T, DbusValue::Array> ||
                             std::is_same_v<T, DbusValue::Struct>) {
          const auto& items = [&]() -> const std::vector<DbusValue>& {
            if constexpr (std::is_same_v<T, DbusValue::Array>) {
              return x.items;
            } else {
              return x.fields;
            }
          }();
          out += std::is_same_v<T, DbusValue::Array> ? '[' : '(';
          for (size_t i = 0; i < items.size() && out.size() <= max; ++i) {
            if (i) out += ',';
            describe_into(items[i], out, max);
          }
          out += std::is_same_v<T, DbusValue::Array> ? ']' : ')';
        } else if constexpr (std::is_same_v<T, DbusValue::Dict>) {
          out += '{';
          bool first = true;
          for (const auto& [k, e] : x.entries) {
            if (out.size() > max) break;
            if (!first) out += ',';
            first = false;
            out += k + ':';
            describe_into(e, out, max);
          }
          out += '}';
        } else {
          out += std::to_string(x);
        }
      },
      v.data);
}

}  // namespace

DbusValue DbusValue::strings(const std::vector<std::string>& v) {
  Array a;
  for (const auto& s : v) a.items.push_back(str(s));
  return DbusValue(Data(std::move(a)));
}

std::optional<bool> DbusValue::as_bool() const {
  if (const bool* b = std::get_if<bool>(&data)) return *b;
  return std::nullopt;
}

std::optional<std::vector<std::string>> DbusValue::as_strings() const {
  const Array* a = as_array();
  if (!a) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& item : a->items) {
    const std::string* s = item.as_string();
    if (!s) return std::nullopt;
    out.push_back(*s);
  }
  return out;
}

const DbusValue* DbusValue::get(const std::string& key) const {
  const Dict* d = as_dict();
  if (!d) return nullptr;
  auto it = d->entries.find(key);
  return it == d->entries.end() ? nullptr : &it->second;
}

std::string DbusValue::describe(size_t max) const {
  std::string out;
  describe_into(*this, out, max);
  if (out.size() > max) out = out.substr(0, max) + "...";
  return out;
}

}  // namespace ng::netfilter::firewalld
