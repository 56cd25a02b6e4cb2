#include "probes/logs/checkpoint.h"

#include <charconv>
#include <cstdio>

namespace ng::probes::logs {
namespace {

constexpr std::string_view kHeader = "# nodeguard log checkpoints v1";

std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '\n' || c == '\r' || c == ' ') {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::string> unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    unsigned v = 0;
    if (i + 2 >= s.size() ||
        std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16).ptr != s.data() + i + 3) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(v));
    i += 2;
  }
  return out;
}

std::string offset_text(std::uint64_t v) {
  return v == kNoOffset ? "-" : std::to_string(v);
}

bool next_field(std::string_view& rest, std::string_view* field) {
  const size_t sp = rest.find(' ');
  if (sp == std::string_view::npos) return false;
  *field = rest.substr(0, sp);
  rest.remove_prefix(sp + 1);
  return true;
}

template <class T>
bool parse_num(std::string_view s, T* v, int base = 10) {
  if (s == "-") {
    *v = static_cast<T>(kNoOffset);
    return true;
  }
  auto r = std::from_chars(s.data(), s.data() + s.size(), *v, base);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

std::uint64_t fingerprint_hash(std::string_view first_bytes) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : first_bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string serialize_checkpoints(const CheckpointState& state) {
  std::string out(kHeader);
  out += "\n";
  char hash[24];
  for (const auto& f : state.files) {
    std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(f.id.fp_hash));
    out += "F " + std::to_string(f.id.dev) + " " + std::to_string(f.id.ino) + " " +
           std::to_string(f.id.fp_len) + " " + hash + " " + std::to_string(f.pos.done) + " " +
           offset_text(f.pos.pending[0]) + " " + offset_text(f.pos.pending[1]) + " " +
           (f.pos.discarding ? "1" : "0") + " " + (f.rotated ? "r" : "c") + " " + escape(f.path) +
           "\n";
  }
  if (!state.journal_cursor.empty()) out += "J " + escape(state.journal_cursor) + "\n";
  for (const auto& [source, n] : state.lines) {
    out += "L " + escape(source) + " " + std::to_string(n) + "\n";
  }
  for (const auto& [key, n] : state.problems) {
    out += "P " + escape(key.second) + " " + std::to_string(n) + " " + escape(key.first) + "\n";
  }
  return out;
}

std::optional<CheckpointState> parse_checkpoints(std::string_view text, std::string* error) {
  CheckpointState state;
  int lineno = 0;
  bool header = false;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++lineno;
    if (lineno == 1) {
      if (line != kHeader) {
        *error =
            "line 1: not a nodeguard log checkpoint file (want \"" + std::string(kHeader) + "\")";
        return std::nullopt;
      }
      header = true;
      continue;
    }
    if (line.empty()) continue;
    auto bad = [&](std::string_view why) {
      *error = "line " + std::to_string(lineno) + ": " + std::string(why);
      return std::nullopt;
    };
    if (line.starts_with("J ")) {
      auto c = unescape(line.substr(2));
      if (!c) return bad("bad escape in journal cursor");
      state.journal_cursor = *c;
      continue;
    }
    if (line.starts_with("L ") || line.starts_with("P ")) {
      std::string_view rest = line.substr(2), src, num;
      std::uint64_t n = 0;
      if (!next_field(rest, &src)) {
        src = rest;
        rest = {};
      }
      auto source = unescape(src);
      if (!source) return bad("bad escape in source");
      if (line[0] == 'L') {
        num = rest;
        if (!parse_num(num, &n) || n == static_cast<std::uint64_t>(kNoOffset)) {
          return bad("malformed counter record");
        }
        state.lines[*source] = n;
      } else {
        if (!next_field(rest, &num) || !parse_num(num, &n) ||
            n == static_cast<std::uint64_t>(kNoOffset) || rest.empty()) {
          return bad("malformed counter record");
        }
        auto reason = unescape(rest);
        if (!reason) return bad("bad escape in reason");
        state.problems[{*reason, *source}] = n;
      }
      continue;
    }
    if (!line.starts_with("F ")) return bad("unknown record");
    std::string_view rest = line.substr(2), f;
    FileCheckpoint cp;
    std::string_view disc, kind;
    if (!next_field(rest, &f) || !parse_num(f, &cp.id.dev) || !next_field(rest, &f) ||
        !parse_num(f, &cp.id.ino) || !next_field(rest, &f) || !parse_num(f, &cp.id.fp_len) ||
        !next_field(rest, &f) || !parse_num(f, &cp.id.fp_hash, 16) || !next_field(rest, &f) ||
        !parse_num(f, &cp.pos.done) || !next_field(rest, &f) || !parse_num(f, &cp.pos.pending[0]) ||
        !next_field(rest, &f) || !parse_num(f, &cp.pos.pending[1]) || !next_field(rest, &disc) ||
        (disc != "0" && disc != "1") || !next_field(rest, &kind) || (kind != "r" && kind != "c") ||
        rest.empty()) {
      return bad("malformed file record");
    }
    cp.pos.discarding = disc == "1";
    cp.rotated = kind == "r";
    auto path = unescape(rest);
    if (!path) return bad("bad escape in path");
    cp.path = *path;
    state.files.push_back(std::move(cp));
  }
  if (!header) {
    *error = "empty checkpoint file";
    return std::nullopt;
  }
  return state;
}

}  // namespace ng::probes::logs
