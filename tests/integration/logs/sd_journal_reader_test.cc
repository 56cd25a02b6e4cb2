// SdJournalReader against real journal files written by systemd-journal-remote (the journal
// format journald itself writes): unit match, end-of-journal start, cursor resume, wake-up fd.
#include "probes/logs/sd_journal_reader.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace ng::probes::logs {
namespace {

constexpr const char* kRemote = "/lib/systemd/systemd-journal-remote";

std::string boot_id() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  in >> id;
  id.erase(std::remove(id.begin(), id.end(), '-'), id.end());
  return id;
}

// Writes `messages` (unit, text) as one journal file in dir.
void write_journal(const std::string& dir, const std::string& name,
                   const std::vector<std::pair<std::string, std::string>>& messages,
                   long long base_usec) {
  const std::string exp = dir + "/" + name + ".export";
  {
    std::ofstream out(exp);
    long long i = 0;
    for (const auto& [unit, text] : messages) {
      ++i;
      out << "__REALTIME_TIMESTAMP=" << base_usec + i << "\n__MONOTONIC_TIMESTAMP=" << base_usec + i
          << "\n_BOOT_ID=" << boot_id() << "\n_SYSTEMD_UNIT=" << unit << "\nMESSAGE=" << text
          << "\n\n";
    }
  }
  const std::string cmd =
      std::string(kRemote) + " -o " + dir + "/" + name + ".journal - < " + exp + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::remove(exp.c_str());
}

std::vector<std::string> read_all(SdJournalReader& r) {
  std::vector<std::string> out;
  std::string_view msg;
  core::WallTime t{};
  for (;;) {
    auto n = r.next(&msg, &t);
    EXPECT_TRUE(n.ok());
    if (!n.ok() || !*n) break;
    out.emplace_back(msg);
  }
  return out;
}

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(kRemote, X_OK) != 0) GTEST_SKIP() << "systemd-journal-remote not installed";
  }
  testing::TempDir dir;
  long long base = 1'700'000'000'000'000LL;
};

TEST_F(JournalTest, ReadsOnlyKubeletFromTheEndAndResumesFromTheCursor) {
  write_journal(dir.path(), "a",
                {{"kubelet.service", "old kubelet"}, {"containerd.service", "old containerd"}},
                base);
  SdJournalReader r("kubelet.service", dir.path(), 4096);
  ASSERT_TRUE(r.open("").ok());
  EXPECT_TRUE(read_all(r).empty());  // a first start sees only what comes next
  ASSERT_GE(r.wait_fd(), 0);

  write_journal(dir.path(), "b",
                {{"kubelet.service", "PLEG is not healthy: pleg was last seen active 3m0s ago"},
                 {"containerd.service", "not ours"},
                 {"kubelet.service", "second"}},
                base + 100);
  pollfd p{r.wait_fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1) << "the journal fd did not wake up for a new file";
  r.process();
  auto got = read_all(r);
  ASSERT_EQ(got, (std::vector<std::string>{
                     "PLEG is not healthy: pleg was last seen active 3m0s ago", "second"}));
  const std::string cursor = r.cursor();
  ASSERT_FALSE(cursor.empty());
  r.close();

  write_journal(dir.path(), "c", {{"kubelet.service", "while away"}}, base + 200);
  SdJournalReader again("kubelet.service", dir.path(), 4096);
  ASSERT_TRUE(again.open(cursor).ok());
  EXPECT_EQ(read_all(again), (std::vector<std::string>{"while away"}));
}

TEST_F(JournalTest, MissingDirectoryIsAnEnvironmentError) {
  SdJournalReader r("kubelet.service", dir / "nope", 4096);
  auto st = r.open("");
  // sd-journal opens an empty view of a missing directory or fails; either way no crash and
  // nothing to read.
  if (st.ok()) {
    EXPECT_TRUE(read_all(r).empty());
  }
}

}  // namespace
}  // namespace ng::probes::logs
