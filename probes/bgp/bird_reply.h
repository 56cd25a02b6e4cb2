#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ng::probes::bgp {

// BIRD's control-socket protocol (BIRD 1.6, 2.x, 3.x): every reply line starts with a 4-digit
// code and '-' (more lines follow) or ' ' (the reply's last line); a continuation line may start
// with a single space instead of the code and belongs to the code before it.
// 0xxx: actions (0000 OK, 0001 welcome, 0013 status), 1xxx: table rows, 2xxx: table headings,
// 8xxx: runtime errors, 9xxx: parse errors.
struct BirdLine {
  int code = 0;
  std::string text;  // without the code and separator (or the leading space)
};

struct BirdReply {
  std::vector<BirdLine> lines;  // every line, the final one included
  int final_code = -1;          // code of the reply's last line; -1 when the reply is cut short
  size_t garbage = 0;           // lines that follow no rule of the protocol (skipped)
  bool complete() const { return final_code >= 0; }
  bool error() const { return final_code >= 8000; }
  std::string error_text() const;  // the final line's text when error()
};

// Parses one reply. Bytes after the final line are ignored.
BirdReply parse_reply(std::string_view bytes);

// Where the first complete reply in `bytes` ends (one past its final line's '\n'), or 0 when
// the final line has not arrived yet. `scanned` lets a reader resume where it stopped.
size_t find_reply_end(std::string_view bytes, size_t* scanned = nullptr);

}  // namespace ng::probes::bgp
