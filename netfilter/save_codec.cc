#include "netfilter/save_codec.h"

#include <array>
#include <cstdint>
#include <unordered_set>

#include "core/strings.h"

namespace ng::netfilter {

namespace {

core::EnvError invalid(size_t line, std::string_view why, std::string_view text) {
  std::string msg = "line " + std::to_string(line) + ": " + std::string(why);
  if (!text.empty()) {
    std::string shown(text.substr(0, 200));
    msg += ": \"" + shown + (text.size() > 200 ? "..." : "") + "\"";
  }
  return core::EnvError{core::EnvErrorKind::kInvalidInput, std::move(msg)};
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

using core::trim;

// "[123:456]" at the start of s; returns its length or 0.
size_t counters_prefix(std::string_view s) {
  if (s.empty() || s[0] != '[') return 0;
  size_t i = 1;
  size_t digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  if (digits == 0 || i >= s.size() || s[i] != ':') return 0;
  ++i;
  digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  if (digits == 0 || i >= s.size() || s[i] != ']') return 0;
  return i + 1;
}

constexpr char kBlobPrefix[] = "#blob ";

}  // namespace

core::Result<std::vector<std::string>> split_args(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  bool in_token = false;
  bool quoted = false;
  bool escaped = false;
  for (char c : line) {
    if (quoted) {
      if (escaped) {
        cur.push_back(c);
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur.push_back(c);
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      in_token = true;
    } else if (is_space(c) || c == '\n') {
      if (in_token) {
        out.push_back(std::move(cur));
        cur.clear();
        in_token = false;
      }
    } else {
      cur.push_back(c);
      in_token = true;
    }
  }
  if (quoted) {
    return core::EnvError{core::EnvErrorKind::kInvalidInput, "unterminated quote"};
  }
  if (in_token) out.push_back(std::move(cur));
  return out;
}

core::Status parse_rule_fields(Rule& rule) {
  auto args = split_args(rule.spec);
  if (!args) return args.error();
  rule.target.clear();
  rule.is_goto = false;
  rule.comment.clear();
  bool have_comment = false;
  const auto& a = *args;
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string& t = a[i];
    const bool jump = t == "-j" || t == "--jump";
    const bool go = t == "-g" || t == "--goto";
    if (jump || go) {
      if (i + 1 >= a.size() || a[i + 1].empty()) {
        return core::EnvError{core::EnvErrorKind::kInvalidInput, t + " without a target"};
      }
      rule.target = a[++i];
      rule.is_goto = go;
    } else if (t == "--comment") {
      if (i + 1 >= a.size()) {
        return core::EnvError{core::EnvErrorKind::kInvalidInput, "--comment without a value"};
      }
      if (!have_comment) rule.comment = a[i + 1];
      have_comment = true;
      ++i;
    }
  }
  return core::Ok{};
}

namespace {

// The state of one parse_save pass: the file so far, the open table (between "*name" and
// COMMIT) and what waits for the next table or rule.
struct SaveParser {
  SaveFile file;
  Table* table = nullptr;
  std::vector<std::string> pending_comments;
  std::string pending_blob;
  std::unordered_set<std::string> declared;
  size_t line_no = 0;

  core::Status line(std::string_view raw);
  core::Status comment_line(std::string_view raw, std::string_view line);
  core::Status table_line(std::string_view line);
  core::Status chain_line(std::string_view line);
  core::Status rule_line(std::string_view line);
  core::Result<SaveFile> finish();
};

core::Status SaveParser::line(std::string_view raw) {
  ++line_no;
  if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
  std::string_view line = trim(raw);
  if (line.empty()) return core::Ok{};
  if (line[0] == '#') return comment_line(raw, line);
  if (line[0] == '*') return table_line(line);
  if (!table) return invalid(line_no, "line outside a table (no \"*table\" before it)", line);
  if (line == "COMMIT") {
    if (!pending_blob.empty()) return invalid(line_no, "blob annotation without a rule", line);
    table = nullptr;
    return core::Ok{};
  }
  if (line[0] == ':') return chain_line(line);
  return rule_line(line);
}

core::Status SaveParser::comment_line(std::string_view raw, std::string_view line) {
  if (table) {
    // Inside a table only our blob annotations mean something; restore ignores the rest.
    if (line.substr(0, sizeof(kBlobPrefix) - 1) == kBlobPrefix) {
      auto bytes = base64_decode(line.substr(sizeof(kBlobPrefix) - 1));
      if (!bytes) return invalid(line_no, "bad blob annotation", line);
      pending_blob = std::move(*bytes);
    }
    return core::Ok{};
  }
  // Trailing blanks are dropped so that render(parse(x)) is a fixed point.
  std::string_view c = raw;
  while (!c.empty() && is_space(c.back())) c.remove_suffix(1);
  pending_comments.emplace_back(c);
  return core::Ok{};
}

core::Status SaveParser::table_line(std::string_view line) {
  if (table) return invalid(line_no, "table started before COMMIT of *" + table->name, line);
  std::string name(trim(line.substr(1)));
  if (name.empty() || name.find_first_of(" \t") != std::string::npos) {
    return invalid(line_no, "bad table name", line);
  }
  if (file.find(name)) return invalid(line_no, "table *" + name + " appears twice", line);
  // Comments after a COMMIT belong to that table ("# Completed on"), up to the first
  // "# Generated"/other header of the next one; keep them attached to the previous table
  // only when they are "# Completed" lines so both orders round-trip.
  std::vector<std::string> before;
  if (!file.tables.empty()) {
    auto& prev = file.tables.back();
    size_t i = 0;
    while (i < pending_comments.size() && pending_comments[i].rfind("# Completed", 0) == 0) {
      prev.after.push_back(pending_comments[i]);
      ++i;
    }
    before.assign(pending_comments.begin() + static_cast<std::ptrdiff_t>(i),
                  pending_comments.end());
  } else {
    file.leading = std::move(pending_comments);
  }
  pending_comments.clear();
  file.tables.push_back(Table{});
  table = &file.tables.back();
  table->name = std::move(name);
  table->before = std::move(before);
  declared.clear();
  return core::Ok{};
}

core::Status SaveParser::chain_line(std::string_view line) {
  auto args = split_args(line.substr(1));
  if (!args || args->empty() || args->size() > 3) {
    return invalid(line_no, "bad chain line (want \":NAME POLICY [p:b]\")", line);
  }
  Chain c;
  c.name = (*args)[0];
  c.policy = args->size() >= 2 ? (*args)[1] : "-";
  if (args->size() == 3) {
    if (counters_prefix((*args)[2]) != (*args)[2].size()) {
      return invalid(line_no, "bad chain counters", line);
    }
    c.counters = (*args)[2];
  }
  if (c.policy != "-" && c.policy != "ACCEPT" && c.policy != "DROP" && c.policy != "QUEUE" &&
      c.policy != "RETURN") {
    return invalid(line_no, "bad chain policy \"" + c.policy + "\"", line);
  }
  if (c.name.empty() || c.name.size() > 64 ||
      c.name.find_first_of(" \t\"'\\") != std::string::npos) {
    return invalid(line_no, "bad chain name", line);
  }
  if (!declared.insert(c.name).second) {
    return invalid(line_no, "chain " + c.name + " declared twice", line);
  }
  table->chains.push_back(std::move(c));
  return core::Ok{};
}

core::Status SaveParser::rule_line(std::string_view line) {
  std::string counters;
  std::string_view rest = line;
  if (size_t n = counters_prefix(rest); n > 0) {
    counters = std::string(rest.substr(0, n));
    rest = trim(rest.substr(n));
  } else if (rest[0] == '[') {
    return invalid(line_no, "bad rule counters", line);
  }
  if (rest.substr(0, 3) != "-A " && rest != "-A" && rest.substr(0, 9) != "--append ") {
    return invalid(line_no, "unexpected line (want -A, a chain, COMMIT or a comment)", line);
  }
  rest = trim(rest.substr(rest[1] == 'A' ? 2 : 8));
  size_t sp = 0;
  while (sp < rest.size() && !is_space(rest[sp])) ++sp;
  std::string chain(rest.substr(0, sp));
  if (chain.empty()) return invalid(line_no, "rule without a chain", line);
  Chain* c = table->find(chain);
  if (!c) return invalid(line_no, "rule for undeclared chain " + chain, line);
  Rule r;
  r.spec = std::string(trim(rest.substr(sp)));
  r.counters = std::move(counters);
  r.blob = std::move(pending_blob);
  pending_blob.clear();
  if (auto st = parse_rule_fields(r); !st) return invalid(line_no, st.error().message, line);
  c->rules.push_back(std::move(r));
  return core::Ok{};
}

core::Result<SaveFile> SaveParser::finish() {
  if (table) return invalid(line_no, "table *" + table->name + " not committed (no COMMIT)", "");
  if (!file.tables.empty()) {
    auto& prev = file.tables.back();
    for (auto& c : pending_comments) prev.after.push_back(std::move(c));
  } else {
    file.leading = std::move(pending_comments);
  }
  return std::move(file);
}

}  // namespace

core::Result<SaveFile> parse_save(std::string_view text) {
  SaveParser parser;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    if (auto st = parser.line(raw); !st) return st.error();
  }
  return parser.finish();
}

core::Result<Table> parse_table(std::string_view text, std::string_view table) {
  auto file = parse_save(text);
  if (!file) return file.error();
  Table* t = file->find(table);
  if (!t) {
    if (!file->tables.empty()) {
      return core::EnvError{
          core::EnvErrorKind::kInvalidInput,
          "dump holds table " + file->tables.front().name + ", not " + std::string(table)};
    }
    Table empty;
    empty.name = std::string(table);
    return empty;
  }
  if (file->tables.size() > 1) {
    return core::EnvError{core::EnvErrorKind::kInvalidInput,
                          "dump holds more than the table " + std::string(table)};
  }
  Table out = std::move(*t);
  out.before.insert(out.before.begin(), file->leading.begin(), file->leading.end());
  return out;
}

std::string render_rule(std::string_view chain, const Rule& rule) {
  std::string out = "-A ";
  out += chain;
  if (!rule.spec.empty()) {
    out += ' ';
    out += rule.spec;
  }
  return out;
}

std::string render_table(const Table& t, const RenderOptions& opts) {
  std::string out;
  if (opts.comments) {
    for (const auto& l : t.before) out += l + "\n";
  }
  out += "*" + t.name + "\n";
  for (const auto& c : t.chains) {
    out += ":" + c.name + " " + c.policy + " ";
    out += (opts.counters && !c.counters.empty()) ? c.counters : std::string("[0:0]");
    out += "\n";
  }
  for (const auto& c : t.chains) {
    for (const auto& r : c.rules) {
      if (opts.blobs && !r.blob.empty()) out += kBlobPrefix + base64_encode(r.blob) + "\n";
      if (opts.counters && !r.counters.empty()) out += r.counters + " ";
      out += render_rule(c.name, r);
      out += "\n";
    }
  }
  out += "COMMIT\n";
  if (opts.comments) {
    for (const auto& l : t.after) out += l + "\n";
  }
  return out;
}

std::string render_save(const SaveFile& file, const RenderOptions& opts) {
  std::string out;
  if (opts.comments) {
    for (const auto& l : file.leading) out += l + "\n";
  }
  for (const auto& t : file.tables) out += render_table(t, opts);
  return out;
}

std::string save_quote(std::string_view value) {
  bool bare = !value.empty();
  for (char c : value) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) {
      bare = false;
      break;
    }
  }
  if (bare) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\' || c == '\'') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  while (i + 2 < bytes.size()) {
    const uint32_t v = (uint32_t(uint8_t(bytes[i])) << 16) |
                       (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint32_t(uint8_t(bytes[i + 2]));
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
    i += 3;
  }
  if (i < bytes.size()) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    if (i + 1 < bytes.size()) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

core::Result<std::string> base64_decode(std::string_view text) {
  std::array<int, 256> rev{};
  rev.fill(-1);
  for (int i = 0; i < 64; ++i) rev[static_cast<uint8_t>(kB64[i])] = i;
  if (text.size() % 4 != 0) {
    return core::EnvError{core::EnvErrorKind::kInvalidInput, "base64 length not a multiple of 4"};
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return core::EnvError{core::EnvErrorKind::kInvalidInput, "bad base64 padding"};
      v[k] = rev[static_cast<uint8_t>(c)];
      if (v[k] < 0)
        return core::EnvError{core::EnvErrorKind::kInvalidInput, "bad base64 character"};
    }
    const uint32_t w =
        (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) | uint32_t(v[3]);
    out += char((w >> 16) & 0xff);
    if (pad < 2) out += char((w >> 8) & 0xff);
    if (pad < 1) out += char(w & 0xff);
  }
  return out;
}

}  // namespace ng::netfilter
