#include "probes/bgp/bird_reply.h"

namespace ng::probes::bgp {
namespace {

bool has_code(std::string_view line) {
  if (line.size() < 5) return false;
  for (int i = 0; i < 4; ++i) {
    if (line[i] < '0' || line[i] > '9') return false;
  }
  return line[4] == '-' || line[4] == ' ';
}

int code_of(std::string_view line) {
  return (line[0] - '0') * 1000 + (line[1] - '0') * 100 + (line[2] - '0') * 10 + (line[3] - '0');
}

// A "DDDD " line ends the reply. Bare "DDDD" (BIRD prints "0000 " but some proxies trim
// trailing blanks) counts too.
bool is_final(std::string_view line) {
  if (line.size() == 4) {
    for (char c : line) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  }
  return has_code(line) && line[4] == ' ';
}

}  // namespace

std::string BirdReply::error_text() const {
  if (!error() || lines.empty()) return "";
  return lines.back().text;
}

size_t find_reply_end(std::string_view bytes, size_t* scanned) {
  size_t pos = scanned ? *scanned : 0;
  while (pos < bytes.size()) {
    const size_t nl = bytes.find('\n', pos);
    if (nl == std::string_view::npos) break;
    std::string_view line = bytes.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl + 1;
    if (is_final(line)) {
      if (scanned) *scanned = pos;
      return pos;
    }
  }
  if (scanned) *scanned = pos;
  return 0;
}

BirdReply parse_reply(std::string_view bytes) {
  BirdReply r;
  int current = -1;  // the code continuation lines inherit
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t nl = bytes.find('\n', pos);
    const bool last_unterminated = nl == std::string_view::npos;
    if (last_unterminated) nl = bytes.size();
    std::string_view line = bytes.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (is_final(line) && !last_unterminated) {
      const int code = code_of(line);
      r.lines.push_back({code, std::string(line.size() > 5 ? line.substr(5) : "")});
      r.final_code = code;
      return r;
    }
    if (has_code(line)) {
      current = code_of(line);
      r.lines.push_back({current, std::string(line.substr(5))});
    } else if (line.empty() || line.front() == ' ' || line.front() == '\t') {
      if (current < 0) {
        if (!line.empty()) ++r.garbage;
        continue;
      }
      // A blank line or one starting with a space continues the previous code.
      r.lines.push_back({current, std::string(line.empty() ? line : line.substr(1))});
    } else {
      ++r.garbage;
    }
  }
  return r;
}

}  // namespace ng::probes::bgp
