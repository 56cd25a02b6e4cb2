#include "probes/logs/log_format.h"

#include <cstring>
#include <ctime>

namespace ng::probes::logs {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// A cheap plausibility check: "YYYY-MM-DDTHH:MM:SS..." without parsing the whole thing.
bool looks_like_timestamp(std::string_view t) {
  return t.size() >= 20 && is_digit(t[0]) && is_digit(t[3]) && t[4] == '-' && t[10] == 'T' &&
         t[13] == ':';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Parses a JSON string starting at s[i] == '"'. With `out`, unescapes into it. Returns the index
// after the closing quote, or npos when malformed.
size_t parse_json_string(std::string_view s, size_t i, std::string* out) {
  if (i >= s.size() || s[i] != '"') return std::string_view::npos;
  ++i;
  while (i < s.size()) {
    // Copy the run of plain bytes in one go.
    size_t j = i;
    while (j < s.size() && s[j] != '"' && s[j] != '\\') ++j;
    if (out) out->append(s.data() + i, j - i);
    if (j >= s.size()) return std::string_view::npos;
    if (s[j] == '"') return j + 1;
    // Escape.
    if (j + 1 >= s.size()) return std::string_view::npos;
    const char e = s[j + 1];
    i = j + 2;
    char plain = 0;
    switch (e) {
      case '"':
        plain = '"';
        break;
      case '\\':
        plain = '\\';
        break;
      case '/':
        plain = '/';
        break;
      case 'b':
        plain = '\b';
        break;
      case 'f':
        plain = '\f';
        break;
      case 'n':
        plain = '\n';
        break;
      case 'r':
        plain = '\r';
        break;
      case 't':
        plain = '\t';
        break;
      case 'u': {
        auto read4 = [&](size_t at, std::uint32_t* v) {
          if (at + 4 > s.size()) return false;
          std::uint32_t r = 0;
          for (size_t k = 0; k < 4; ++k) {
            const int h = hex_value(s[at + k]);
            if (h < 0) return false;
            r = (r << 4) | static_cast<std::uint32_t>(h);
          }
          *v = r;
          return true;
        };
        std::uint32_t cp = 0;
        if (!read4(i, &cp)) return std::string_view::npos;
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          std::uint32_t lo = 0;
          if (i + 1 < s.size() && s[i] == '\\' && s[i + 1] == 'u' && read4(i + 2, &lo) &&
              lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          } else {
            cp = 0xFFFD;  // lone high surrogate
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          cp = 0xFFFD;
        }
        if (out) append_utf8(*out, cp);
        continue;
      }
      default:
        return std::string_view::npos;
    }
    if (out) out->push_back(plain);
  }
  return std::string_view::npos;
}

size_t skip_ws(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) ++i;
  return i;
}

// Skips any JSON value we do not care about (docker's "attrs" object, numbers, ...).
size_t skip_json_value(std::string_view s, size_t i, int depth = 0) {
  if (i >= s.size() || depth > 32) return std::string_view::npos;
  const char c = s[i];
  if (c == '"') return parse_json_string(s, i, nullptr);
  if (c == '{' || c == '[') {
    const char close = c == '{' ? '}' : ']';
    i = skip_ws(s, i + 1);
    if (i < s.size() && s[i] == close) return i + 1;
    for (;;) {
      if (c == '{') {
        i = parse_json_string(s, skip_ws(s, i), nullptr);
        if (i == std::string_view::npos) return i;
        i = skip_ws(s, i);
        if (i >= s.size() || s[i] != ':') return std::string_view::npos;
        i = skip_ws(s, i + 1);
      }
      i = skip_json_value(s, skip_ws(s, i), depth + 1);
      if (i == std::string_view::npos) return i;
      i = skip_ws(s, i);
      if (i >= s.size()) return std::string_view::npos;
      if (s[i] == close) return i + 1;
      if (s[i] != ',') return std::string_view::npos;
      ++i;
    }
  }
  // Literals and numbers: up to the next delimiter.
  size_t j = i;
  while (j < s.size() && s[j] != ',' && s[j] != '}' && s[j] != ']' && s[j] != ' ') ++j;
  return j == i ? std::string_view::npos : j;
}

}  // namespace

std::optional<DecodedLine> decode_cri(std::string_view line) {
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || !looks_like_timestamp(line.substr(0, sp1))) {
    return std::nullopt;
  }
  DecodedLine d;
  d.time = line.substr(0, sp1);
  std::string_view rest = line.substr(sp1 + 1);
  if (rest.starts_with("stdout ")) {
    d.stream = Stream::kStdout;
  } else if (rest.starts_with("stderr ")) {
    d.stream = Stream::kStderr;
  } else {
    return std::nullopt;
  }
  rest.remove_prefix(7);
  // Tags: "P" or "F", optionally followed by ":more:tags"; then one space and the message.
  if (rest.empty() || (rest[0] != 'P' && rest[0] != 'F')) return std::nullopt;
  d.partial = rest[0] == 'P';
  size_t end = 1;
  if (end < rest.size() && rest[end] == ':') {
    while (end < rest.size() && rest[end] != ' ') ++end;
  }
  if (end < rest.size() && rest[end] != ' ') return std::nullopt;
  d.message = end < rest.size() ? rest.substr(end + 1) : std::string_view();
  return d;
}

std::optional<DecodedLine> decode_docker_json(std::string_view line, std::string& scratch) {
  scratch.clear();
  size_t i = skip_ws(line, 0);
  if (i >= line.size() || line[i] != '{') return std::nullopt;
  i = skip_ws(line, i + 1);
  DecodedLine d;
  bool have_log = false;
  if (i < line.size() && line[i] == '}') return std::nullopt;
  for (;;) {
    const size_t key_start = i;
    const size_t key_end = parse_json_string(line, i, nullptr);
    if (key_end == std::string_view::npos) return std::nullopt;
    const std::string_view raw_key = line.substr(key_start + 1, key_end - key_start - 2);
    i = skip_ws(line, key_end);
    if (i >= line.size() || line[i] != ':') return std::nullopt;
    i = skip_ws(line, i + 1);
    if (raw_key == "log") {
      if (have_log) return std::nullopt;
      const size_t e = parse_json_string(line, i, &scratch);
      if (e == std::string_view::npos) return std::nullopt;
      have_log = true;
      i = e;
    } else if (raw_key == "stream" || raw_key == "time") {
      const size_t e = parse_json_string(line, i, nullptr);
      if (e == std::string_view::npos) return std::nullopt;
      const std::string_view v = line.substr(i + 1, e - i - 2);  // no escapes in these in practice
      if (raw_key == "stream") {
        d.stream = v == "stdout"   ? Stream::kStdout
                   : v == "stderr" ? Stream::kStderr
                                   : Stream::kUnknown;
      } else {
        d.time = v;
      }
      i = e;
    } else {
      i = skip_json_value(line, i);
      if (i == std::string_view::npos) return std::nullopt;
    }
    i = skip_ws(line, i);
    if (i >= line.size()) return std::nullopt;
    if (line[i] == '}') break;
    if (line[i] != ',') return std::nullopt;
    i = skip_ws(line, i + 1);
  }
  if (!have_log) return std::nullopt;
  std::string_view msg = scratch;
  if (!msg.empty() && msg.back() == '\n') {
    msg.remove_suffix(1);
    d.partial = false;
  } else {
    d.partial = true;  // docker splits long lines at 16 KiB without the newline
  }
  d.message = msg;
  return d;
}

std::optional<DecodedLine> decode_container_line(std::string_view line, std::string& scratch) {
  if (!line.empty() && line.front() == '{') {
    if (auto d = decode_docker_json(line, scratch)) return d;
  }
  return decode_cri(line);
}

bool PartialAssembler::add(std::string_view fragment, bool partial, std::string_view* out,
                           bool* truncated, bool cut, size_t limit) {
  if (!pending_ && !partial) {
    // The common case: a whole line, passed through without a copy.
    *truncated = cut || fragment.size() > max_;
    *out = fragment.substr(0, max_);
    if (buf_.capacity() > 64 * 1024)
      std::string().swap(buf_);
    else
      buf_.clear();
    return true;
  }
  if (!pending_) {
    buf_.clear();
    cut_ = false;
    pending_ = true;
  }
  const size_t max = std::min(max_, limit);
  const size_t room = max - std::min(max, buf_.size());
  if (fragment.size() > room || cut) cut_ = true;
  buf_.append(fragment.data(), std::min(room, fragment.size()));
  if (partial) return false;
  pending_ = false;
  *out = buf_;
  *truncated = cut_;
  return true;
}

void PartialAssembler::trim(size_t slack) {
  if (!pending_) buf_.clear();
  if (buf_.capacity() > buf_.size() + slack) std::string(buf_).swap(buf_);
}

void PartialAssembler::reset() {
  pending_ = false;
  cut_ = false;
  std::string().swap(buf_);
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view s) {
  auto num = [&](size_t at, size_t n, int* v) {
    if (at + n > s.size()) return false;
    int r = 0;
    for (size_t k = 0; k < n; ++k) {
      if (!is_digit(s[at + k])) return false;
      r = r * 10 + (s[at + k] - '0');
    }
    *v = r;
    return true;
  };
  int Y, M, D, h, m, sec;
  if (!num(0, 4, &Y) || s.size() < 19 || s[4] != '-' || !num(5, 2, &M) || s[7] != '-' ||
      !num(8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !num(11, 2, &h) ||
      s[13] != ':' || !num(14, 2, &m) || s[16] != ':' || !num(17, 2, &sec)) {
    return std::nullopt;
  }
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) return std::nullopt;
  size_t i = 19;
  std::int64_t nanos = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    while (i < s.size() && is_digit(s[i])) {
      if (digits < 9) {
        nanos = nanos * 10 + (s[i] - '0');
        ++digits;
      }
      ++i;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 9; ++digits) nanos *= 10;
  }
  std::int64_t offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (!num(i + 1, 2, &oh) || i + 3 >= s.size() || s[i + 3] != ':' || !num(i + 4, 2, &om)) {
      return std::nullopt;
    }
    offset = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = sec;
  const std::time_t t = timegm(&tm);
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(t - offset) + std::chrono::nanoseconds(nanos)));
}

}  // namespace ng::probes::logs
