#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace ng::testing {

// A transcript from tests/testdata/bird, verbatim.
inline std::string bird_transcript(const std::string& name) {
  std::ifstream in(std::string(NG_TESTDATA_DIR) + "/bird/" + name, std::ios::binary);
  if (!in) throw std::runtime_error("missing testdata bird/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The reply to the command: the transcript without the welcome line, as a query returns it.
inline std::string bird_reply_of(const std::string& name) {
  std::string t = bird_transcript(name);
  if (t.rfind("0001 ", 0) == 0) t.erase(0, t.find('\n') + 1);
  return t;
}

}  // namespace ng::testing
