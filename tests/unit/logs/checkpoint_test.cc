#include "probes/logs/checkpoint.h"

#include <gtest/gtest.h>

namespace ng::probes::logs {
namespace {

TEST(CheckpointTest, RoundTrips) {
  CheckpointState s;
  FileCheckpoint a;
  a.id = {2049, 123456, 512, 0xdeadbeefcafef00dull};
  a.pos.done = 1000;
  a.pos.pending = {900, kNoOffset};
  a.pos.discarding = false;
  a.path = "/var/log/pods/ns_pod_uid/c/0.log";
  FileCheckpoint b;
  b.id = {1, 2, 0, fingerprint_hash({})};
  b.pos.done = 7;
  b.pos.discarding = true;
  b.rotated = true;
  b.path = "/odd path/with %percent\nand newline";
  s.files = {a, b};
  s.journal_cursor = "s=abc;i=1;b=def;m=10;t=5;x=ff";
  s.lines = {{"container", 120000}, {"kubelet", 7}};
  s.problems = {{{"OOMKilling", "kubelet"}, 3}, {{"Odd reason %", "file"}, 1}};
  const std::string text = serialize_checkpoints(s);
  std::string error;
  auto back = parse_checkpoints(text, &error);
  ASSERT_TRUE(back) << error;
  ASSERT_EQ(back->files.size(), 2u);
  EXPECT_EQ(back->files[0].id.ino, 123456u);
  EXPECT_EQ(back->files[0].id.fp_hash, 0xdeadbeefcafef00dull);
  EXPECT_EQ(back->files[0].pos.pending[0], 900u);
  EXPECT_EQ(back->files[0].pos.pending[1], kNoOffset);
  EXPECT_EQ(back->files[0].pos.resume_at(), 900u);
  EXPECT_TRUE(back->files[1].pos.discarding);
  EXPECT_TRUE(back->files[1].rotated);
  EXPECT_FALSE(back->files[0].rotated);
  EXPECT_EQ(back->files[1].path, b.path);
  EXPECT_EQ(back->journal_cursor, s.journal_cursor);
  EXPECT_EQ(back->lines, s.lines);
  EXPECT_EQ(back->problems, s.problems);
}

TEST(CheckpointTest, RejectsGarbageWithTheLine) {
  std::string error;
  EXPECT_FALSE(parse_checkpoints("", &error));
  EXPECT_FALSE(parse_checkpoints("hello\n", &error));
  EXPECT_NE(error.find("line 1"), std::string::npos);
  EXPECT_FALSE(parse_checkpoints("# nodeguard log checkpoints v1\nF 1 2 x\n", &error));
  EXPECT_NE(error.find("line 2"), std::string::npos);
  EXPECT_FALSE(parse_checkpoints("# nodeguard log checkpoints v1\nQ what\n", &error));
}

}  // namespace
}  // namespace ng::probes::logs
