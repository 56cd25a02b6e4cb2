#include "probes/bgp/bird_reply.h"

#include <gtest/gtest.h>

#include "tests/unit/bgp/testdata.h"

namespace ng::probes::bgp {
namespace {

TEST(BirdReply, CodesDashSpaceAndContinuations) {
  const std::string bytes =
      "2002-Name       Proto\n"
      "1002-device1    Device\n"
      " kernel1    Kernel\n"
      "1006-  BGP state: Established\n"
      "     Neighbor address: 10.0.0.2\n"
      " \n"
      "0000 \n";
  auto r = parse_reply(bytes);
  ASSERT_TRUE(r.complete());
  EXPECT_FALSE(r.error());
  EXPECT_EQ(r.final_code, 0);
  EXPECT_EQ(r.garbage, 0u);
  ASSERT_EQ(r.lines.size(), 7u);
  EXPECT_EQ(r.lines[0].code, 2002);
  EXPECT_EQ(r.lines[2].code, 1002);  // continuation inherits the code
  EXPECT_EQ(r.lines[2].text, "kernel1    Kernel");
  EXPECT_EQ(r.lines[4].code, 1006);
  EXPECT_EQ(r.lines[4].text, "    Neighbor address: 10.0.0.2");
}

TEST(BirdReply, FramingFindsTheFinalLine) {
  const std::string bytes = "1002-a\n b\n0000 \n0001 next";
  EXPECT_EQ(find_reply_end(bytes), std::string("1002-a\n b\n0000 \n").size());
  EXPECT_EQ(find_reply_end("1002-a\n b\n"), 0u);
  EXPECT_EQ(find_reply_end("0001 BIRD 2.0.12 ready.\n"), 24u);
  // Resumable: a reader feeding chunks scans each byte once.
  size_t scanned = 0;
  std::string buf = "1002-a\n00";
  EXPECT_EQ(find_reply_end(buf, &scanned), 0u);
  EXPECT_EQ(scanned, 7u);
  buf += "00 \n";
  EXPECT_EQ(find_reply_end(buf, &scanned), buf.size());
  // A continuation line starting with a space is never final, whatever follows.
  EXPECT_EQ(find_reply_end(" 0000 x\n"), 0u);
}

TEST(BirdReply, Errors) {
  auto r = parse_reply(ng::testing::bird_reply_of("bird2_syntax_error.txt"));
  EXPECT_TRUE(r.error());
  EXPECT_EQ(r.final_code, 9001);
  EXPECT_NE(r.error_text().find("syntax error"), std::string::npos);
  r = parse_reply(ng::testing::bird_reply_of("bird2_runtime_error.txt"));
  EXPECT_TRUE(r.error());
  EXPECT_EQ(r.final_code, 8003);
  EXPECT_EQ(r.error_text(), "No protocols match");
}

TEST(BirdReply, GarbageIsCountedAndSkipped) {
  auto r = parse_reply(ng::testing::bird_reply_of("bird2_show_protocols_garbage.txt"));
  EXPECT_TRUE(r.complete());
  EXPECT_EQ(r.garbage, 2u);  // "this line is not BIRD", "12x4-broken code"
  r = parse_reply("junk before anything\n more junk\n0000 \n");
  EXPECT_EQ(r.garbage, 2u);
  EXPECT_TRUE(r.complete());
}

TEST(BirdReply, TruncatedReplyIsIncomplete) {
  auto r = parse_reply(ng::testing::bird_reply_of("bird2_truncated.txt"));
  EXPECT_FALSE(r.complete());
  EXPECT_FALSE(r.error());
  EXPECT_EQ(parse_reply("").final_code, -1);
  EXPECT_EQ(parse_reply("0000").final_code, -1);  // unterminated: not a final line yet
}

TEST(BirdReply, CrLfAndBinaryNoise) {
  const char raw[] = "1002-a\r\n\x01\xff\n0000 \r\n";
  auto r = parse_reply(std::string(raw, sizeof raw - 1));
  EXPECT_TRUE(r.complete());
  EXPECT_EQ(r.garbage, 1u);
}

}  // namespace
}  // namespace ng::probes::bgp
