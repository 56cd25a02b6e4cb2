#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "probes/logs/file_tailer.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/manual_executor.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/logs/fake_fs_watcher.h"

namespace ng::testing {

struct CollectingSink final : probes::logs::LineSink {
  void on_line(const probes::logs::LineMeta& m, std::string_view msg) override {
    lines.emplace_back(msg);
    metas.push_back(m);
    if (m.pod) pods.push_back(m.pod->namespace_ + "/" + m.pod->pod + "/" + m.pod->container);
  }
  // Quiet mode (like LogPipeline's prefilter): only lines holding `quiet_marker` are wanted one
  // by one; the decoder counts the others into `quiet`.
  void begin_chunk(probes::logs::SourceKind, std::string_view raw) override {
    hits.clear();
    if (quiet_marker.empty()) return;
    for (size_t at = raw.find(quiet_marker); at != std::string_view::npos;
         at = raw.find(quiet_marker, at + 1)) {
      hits.push_back(static_cast<std::uint32_t>(at + quiet_marker.size()));
    }
  }
  const std::vector<std::uint32_t>* quiet_hits() const override {
    return quiet_marker.empty() ? nullptr : &hits;
  }
  void count_quiet(probes::logs::SourceKind, size_t n) override { quiet += n; }
  std::vector<std::string> lines;
  std::vector<probes::logs::LineMeta> metas;
  std::vector<std::string> pods;
  std::string quiet_marker;
  std::vector<std::uint32_t> hits;
  size_t quiet = 0;
};

inline void append(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << text;
}

inline std::string cri(const std::string& msg, char tag = 'F') {
  return "2024-05-01T12:00:00.000000001Z stdout " + std::string(1, tag) + " " + msg + "\n";
}

}  // namespace ng::testing
