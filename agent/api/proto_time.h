#pragma once

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>

#include <chrono>

namespace ng::agent {

inline google::protobuf::Timestamp to_proto(std::chrono::system_clock::time_point t) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  google::protobuf::Timestamp ts;
  ts.set_seconds(ns / 1000000000);
  ts.set_nanos(static_cast<int>(ns % 1000000000));
  return ts;
}

template <class Rep, class Period>
google::protobuf::Duration to_proto_duration(std::chrono::duration<Rep, Period> d) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  google::protobuf::Duration out;
  out.set_seconds(ns / 1000000000);
  out.set_nanos(static_cast<int>(ns % 1000000000));
  return out;
}

}  // namespace ng::agent
