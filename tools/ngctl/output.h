#pragma once

#include <google/protobuf/message.h>

#include <ostream>
#include <string>
#include <vector>

namespace ng::ngctl {

// Aligned columns for people; the header row first.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// The message as JSON with the proto field names, every field present: stable for scripts.
std::string to_json(const google::protobuf::Message& message);

std::string format_duration_seconds(long long seconds);

}  // namespace ng::ngctl
