#include "probes/logs/quote_mask.h"

#include <cctype>
#include <cstring>

namespace ng::probes::logs {
namespace {

constexpr std::string_view kContainerDump = "&Container{";
constexpr size_t npos = std::string_view::npos;

size_t backslashes_before(std::string_view s, size_t i, size_t from) {
  size_t n = 0;
  while (i > from && s[i - 1] == '\\') {
    --i;
    ++n;
  }
  return n;
}

// Where the quoted string whose content starts at `from` ends (its closing '"'), npos when
// unterminated. Top level: a '"' after an even number of backslashes.
size_t closing_quote(std::string_view s, size_t from) {
  for (size_t i = from; i < s.size(); ++i) {
    if (s[i] == '"' && backslashes_before(s, i, from) % 2 == 0) return i;
  }
  return npos;
}

// After "&Container{" at `open_brace`: the index just past its matching '}', or s.size().
size_t skip_braces(std::string_view s, size_t open_brace) {
  int depth = 0;
  for (size_t i = open_brace; i < s.size(); ++i) {
    if (s[i] == '{') ++depth;
    if (s[i] == '}' && --depth == 0) return i + 1;
  }
  return s.size();
}

// A quoted value's content (escaped once): kept, but strings quoted inside it (\"…\", exactly
// one backslash; deeper levels are inside those) and container dumps are masked.
void mask_nested(std::string_view v, std::string& out) {
  size_t i = 0;
  while (i < v.size()) {
    if (v[i] == '\\' && i + 1 < v.size() && v[i + 1] == '"' && (i == 0 || v[i - 1] != '\\')) {
      size_t end = npos;
      for (size_t j = i + 2; j + 1 < v.size(); ++j) {
        if (v[j] == '\\' && v[j + 1] == '"' && v[j - 1] != '\\') {
          end = j;
          break;
        }
      }
      out += "\\\"\\\"";
      if (end == npos) return;
      i = end + 2;
      continue;
    }
    if (v.substr(i, kContainerDump.size()) == kContainerDump) {
      out += "&Container{}";
      i = skip_braces(v, i + kContainerDump.size() - 1);
      continue;
    }
    out.push_back(v[i++]);
  }
}

// Where a klog line's message starts ("E1205 07:00:00.000000 1234 file.go:12] "), else 0.
size_t message_start(std::string_view s) {
  if (s.size() < 2 || !std::strchr("IWEF", s[0]) || !std::isdigit(static_cast<unsigned char>(s[1])))
    return 0;
  const size_t end = s.find("] ");
  return end == npos || end > 128 ? 0 : end + 2;
}

// `] "Message"` followed by nothing or ` key=`: kubelet's structured logging.
bool structured(std::string_view s, size_t at, size_t* msg_end) {
  if (at >= s.size() || s[at] != '"') return false;
  const size_t close = closing_quote(s, at + 1);
  if (close == npos) return false;
  size_t i = close + 1;
  *msg_end = i;
  if (i == s.size()) return true;
  if (s[i] != ' ') return false;
  ++i;
  const size_t key = i;
  while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_')) ++i;
  return i > key && i < s.size() && s[i] == '=';
}

// The identifier just before `="` at `quote`.
std::string_view key_before(std::string_view s, size_t quote) {
  if (quote == 0 || s[quote - 1] != '=') return {};
  size_t b = quote - 1;
  while (b > 0 && (std::isalnum(static_cast<unsigned char>(s[b - 1])) || s[b - 1] == '_')) --b;
  return s.substr(b, quote - 1 - b);
}

}  // namespace

std::string_view mask_quoted(std::string_view line, std::string& out) {
  if (line.find('"') == npos && line.find(kContainerDump) == npos) return line;
  out.clear();
  const size_t start = message_start(line);
  size_t msg_end = 0;
  const bool is_structured = structured(line, start, &msg_end);
  size_t i = 0;
  if (is_structured) {
    out.append(line.substr(0, msg_end));
    i = msg_end;
  }
  while (i < line.size()) {
    const char c = line[i];
    if (c == '"') {
      const size_t close = closing_quote(line, i + 1);
      const std::string_view key = key_before(line, i);
      out.push_back('"');
      if (close == npos) {
        out.push_back('"');
        break;
      }
      if (is_structured && (key == "err" || key == "error")) {
        mask_nested(line.substr(i + 1, close - i - 1), out);
      }
      out.push_back('"');
      i = close + 1;
      continue;
    }
    if (c == '&' && line.substr(i, kContainerDump.size()) == kContainerDump) {
      out += "&Container{}";
      i = skip_braces(line, i + kContainerDump.size() - 1);
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

}  // namespace ng::probes::logs
