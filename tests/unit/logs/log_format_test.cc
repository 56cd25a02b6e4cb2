#include "probes/logs/log_format.h"

#include <gtest/gtest.h>

#include <random>

#include "probes/logs/line_decoder.h"
#include "probes/logs/pod_path.h"

namespace ng::probes::logs {
namespace {

struct Collected {
  std::vector<std::string> lines;
  std::vector<DecodedInfo> infos;
  auto emitter() {
    return [this](const DecodedInfo& i, std::string_view m) {
      lines.emplace_back(m);
      infos.push_back(i);
    };
  }
};

TEST(CriTest, DecodesFullAndPartialLines) {
  auto d = decode_cri("2024-05-01T12:00:00.123456789Z stdout F hello world");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->time, "2024-05-01T12:00:00.123456789Z");
  EXPECT_EQ(d->stream, Stream::kStdout);
  EXPECT_FALSE(d->partial);
  EXPECT_EQ(d->message, "hello world");
  d = decode_cri("2024-05-01T12:00:00.1+02:00 stderr P part");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->stream, Stream::kStderr);
  EXPECT_TRUE(d->partial);
  EXPECT_EQ(d->message, "part");
  d = decode_cri("2024-05-01T12:00:00Z stdout F:extra:tags msg");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->message, "msg");
  d = decode_cri("2024-05-01T12:00:00Z stdout F");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->message, "");
}

TEST(CriTest, RejectsOtherShapes) {
  EXPECT_FALSE(decode_cri(""));
  EXPECT_FALSE(decode_cri("hello world"));
  EXPECT_FALSE(decode_cri("2024-05-01T12:00:00Z stdin F x"));
  EXPECT_FALSE(decode_cri("2024-05-01T12:00:00Z stdout X x"));
  EXPECT_FALSE(decode_cri("2024-05-01T12:00:00Z stdout Fx"));
  EXPECT_FALSE(decode_cri("notatimestamp stdout F x"));
}

TEST(DockerTest, DecodesAndUnescapes) {
  std::string scratch;
  auto d = decode_docker_json(
      R"({"log":"say \"hi\"\t\u00e9\ud83d\ude00 \\ done\n","stream":"stderr","time":"2024-05-01T12:00:00.5Z"})",
      scratch);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->stream, Stream::kStderr);
  EXPECT_FALSE(d->partial);
  EXPECT_EQ(d->time, "2024-05-01T12:00:00.5Z");
  EXPECT_EQ(d->message, "say \"hi\"\t\xC3\xA9\xF0\x9F\x98\x80 \\ done");
  d = decode_docker_json(R"({"stream":"stdout","attrs":{"a":[1,2,{"b":null}]},"log":"part"})",
                         scratch);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->partial);
  EXPECT_EQ(d->message, "part");
}

TEST(DockerTest, RejectsMalformed) {
  std::string s;
  EXPECT_FALSE(decode_docker_json("{", s));
  EXPECT_FALSE(decode_docker_json(R"({"log":"unterminated)", s));
  EXPECT_FALSE(decode_docker_json(R"({"log":"bad \x escape\n"})", s));
  EXPECT_FALSE(decode_docker_json(R"({"stream":"stdout"})", s));
  EXPECT_FALSE(decode_docker_json(R"({"log":"a\n",})", s));
  // Lone surrogates become U+FFFD rather than invalid UTF-8.
  auto d = decode_docker_json(R"({"log":"\ud800x\n"})", s);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->message, "\xEF\xBF\xBDx");
}

TEST(AssemblerTest, JoinsPartialsAndCutsAtMax) {
  PartialAssembler a(10);
  std::string_view out;
  bool cut = false;
  EXPECT_FALSE(a.add("abc", true, &out, &cut));
  EXPECT_TRUE(a.pending());
  EXPECT_TRUE(a.add("def", false, &out, &cut));
  EXPECT_EQ(out, "abcdef");
  EXPECT_FALSE(cut);
  EXPECT_FALSE(a.add("0123456", true, &out, &cut));
  EXPECT_FALSE(a.add("789ABCDEF", true, &out, &cut));
  EXPECT_TRUE(a.add("tail", false, &out, &cut));
  EXPECT_EQ(out, "0123456789");
  EXPECT_TRUE(cut);
  EXPECT_TRUE(a.add("0123456789xyz", false, &out, &cut));
  EXPECT_EQ(out, "0123456789");
  EXPECT_TRUE(cut);
}

TEST(Rfc3339Test, Parses) {
  auto t = parse_rfc3339("1970-01-01T00:00:01.5Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count(),
            1500);
  auto u = parse_rfc3339("1970-01-01T01:00:00+01:00");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->time_since_epoch().count(), 0);
  EXPECT_FALSE(parse_rfc3339("1970-01-01T00:00:00"));
  EXPECT_FALSE(parse_rfc3339("garbage"));
}

TEST(PodPathTest, FromContainersLinkAndPodsDir) {
  const std::string id(64, 'f');
  auto p = pod_from_path("/var/log/containers/web-7d9_prod_nginx-" + id + ".log");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->pod, "web-7d9");
  EXPECT_EQ(p->namespace_, "prod");
  EXPECT_EQ(p->container, "nginx");
  p = pod_from_path("/var/log/pods/prod_web-7d9_1234-abcd/nginx/3.log");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->namespace_, "prod");
  EXPECT_EQ(p->pod, "web-7d9");
  EXPECT_EQ(p->uid, "1234-abcd");
  EXPECT_EQ(p->container, "nginx");
  EXPECT_FALSE(pod_from_path("/var/log/syslog"));
  EXPECT_FALSE(pod_from_path("/var/log/containers/x.log"));
}

// Feeds all of `text` at once with the given prefilter match ends; returns how many lines were
// counted without being handed on.
size_t feed_quiet(LineDecoder& dec, const std::string& text, const std::vector<std::uint32_t>& hits,
                  Collected& c) {
  LineDecoder::QuietLines q;
  q.base = text.data();
  q.hits = &hits;
  dec.feed(text, c.emitter(), &q);
  return q.count;
}

TEST(LineDecoderTest, CriAcrossReadsWithInterleavedStreams) {
  LineDecoder dec(LineFormat::kAuto, 1024);
  dec.reset(0);
  Collected c;
  const std::string text =
      "2024-05-01T12:00:00Z stdout P out-a \n"
      "2024-05-01T12:00:00Z stderr F err whole\n"
      "2024-05-01T12:00:00Z stdout F out-b\n"
      "{\"log\":\"docker line\\n\",\"stream\":\"stdout\"}\n"
      "plain garbage line\n";
  // Feed in awkward pieces.
  for (size_t i = 0; i < text.size(); i += 7)
    dec.feed(std::string_view(text).substr(i, 7), c.emitter());
  ASSERT_EQ(c.lines.size(), 4u);
  EXPECT_EQ(c.lines[0], "err whole");
  EXPECT_EQ(c.infos[0].stream, Stream::kStderr);
  EXPECT_EQ(c.lines[1], "out-a out-b");
  EXPECT_EQ(c.lines[2], "docker line");
  EXPECT_EQ(c.lines[3], "plain garbage line");
  EXPECT_TRUE(c.infos[3].decode_error);
  EXPECT_EQ(dec.position().done, text.size());
}

// Lines without a prefilter hit are counted, not handed on; everything else still is: lines
// holding a hit, fragments and the line that completes them, Docker and malformed lines, cut
// lines, and lines replayed before a checkpoint (next test).
TEST(LineDecoderTest, QuietLinesAreCountedAndEverythingElseIsHandedOn) {
  const std::string text =
      "2024-05-01T12:00:00Z stdout F quiet one\n"        // 0: counted
      "2024-05-01T12:00:00Z stdout F has a hit\n"        // 1: hit inside
      "2024-05-01T12:00:00.123Z stderr P first half \n"  // 2: fragment
      "2024-05-01T12:00:00Z stdout F quiet two\n"        // 3: other stream: counted
      "2024-05-01T12:00:00Z stderr F second half\n"      // 4: completes 2
      "{\"log\":\"docker\\n\",\"stream\":\"stdout\"}\n"  // 5: Docker
      "plain garbage line\n"                             // 6: decode error
      "2024-05-01T12:00:00Z stdout F:x tagged\n"         // 7: tagged whole line: counted
      "2024-05-01T12:00:00Z stdout F " +
      std::string(80, 'x') +
      "\n"                                            // 8: longer than max
      "2024-05-01T12:00:00Z stdout F quiet three\n";  // 9: counted
  auto line_end = [&](int n) {                        // offset of line n's newline
    size_t at = 0;
    for (int i = 0; i <= n; ++i) at = text.find('\n', at + (i ? 1 : 0));
    return static_cast<std::uint32_t>(at);
  };
  const std::vector<std::uint32_t> hits{line_end(1) - 3};
  LineDecoder dec(LineFormat::kAuto, 64);
  dec.reset(0);
  Collected c;
  EXPECT_EQ(feed_quiet(dec, text, hits, c), 4u);
  ASSERT_EQ(c.lines.size(), 5u);
  EXPECT_EQ(c.lines[0], "has a hit");
  EXPECT_EQ(c.lines[1], "first half second half");
  EXPECT_EQ(c.lines[2], "docker");
  EXPECT_EQ(c.lines[3], "plain garbage line");
  EXPECT_TRUE(c.infos[3].decode_error);
  EXPECT_TRUE(c.infos[4].truncated);
  EXPECT_EQ(dec.position().done, text.size());
  EXPECT_EQ(dec.position().resume_at(), text.size());

  // A match ending right at a line's start ended on the newline before it: in no message.
  const std::vector<std::uint32_t> at_start{line_end(0) + 1};
  LineDecoder d2(LineFormat::kCri, 64);
  d2.reset(0);
  Collected c2;
  EXPECT_EQ(feed_quiet(d2, text.substr(0, line_end(1) + 1), at_start, c2), 2u);
  EXPECT_TRUE(c2.lines.empty());
}

// After a restart, lines up to the checkpoint are replayed only to re-join a pending fragment:
// neither counted again nor handed on.
TEST(LineDecoderTest, QuietLinesBeforeTheCheckpointAreNotCountedAgain) {
  const std::string text =
      "2024-05-01T12:00:00Z stdout P frag-a \n"
      "2024-05-01T12:00:00Z stderr F other\n"
      "2024-05-01T12:00:00Z stdout F end-a\n"
      "2024-05-01T12:00:00Z stderr F quiet\n";
  DecoderPosition pos;
  pos.pending[0] = 0;
  pos.done = text.find('\n', text.find('\n') + 1) + 1;  // after "other"
  LineDecoder dec(LineFormat::kCri, 1024);
  dec.restore(pos);
  ASSERT_EQ(dec.next_offset(), 0u);
  Collected c;
  EXPECT_EQ(feed_quiet(dec, text, {}, c), 1u);
  ASSERT_EQ(c.lines.size(), 1u);
  EXPECT_EQ(c.lines[0], "frag-a end-a");
  EXPECT_EQ(dec.position().done, text.size());
}

TEST(LineDecoderTest, OverLongRawLineIsCutCountedAndTheRestSkipped) {
  LineDecoder dec(LineFormat::kPlain, 256);
  dec.reset(0);
  Collected c;
  std::string big(5000, 'x');
  dec.feed(big.substr(0, 1000), c.emitter());
  dec.feed(big.substr(1000) + "\nnext\n", c.emitter());
  ASSERT_EQ(c.lines.size(), 2u);
  EXPECT_EQ(c.lines[0].size(), 256u);
  EXPECT_TRUE(c.infos[0].truncated);
  EXPECT_EQ(c.lines[1], "next");
  EXPECT_LE(dec.buffered_bytes(), 4096u);
}

TEST(LineDecoderTest, OverLongPartialLineStaysOneTruncatedLine) {
  LineDecoder dec(LineFormat::kCri, 300);
  dec.reset(0);
  Collected c;
  std::string frag(200, 'p');
  std::string text;
  for (int i = 0; i < 5; ++i) text += "2024-05-01T12:00:00Z stdout P " + frag + "\n";
  text += "2024-05-01T12:00:00Z stdout F end\n2024-05-01T12:00:00Z stdout F ok\n";
  dec.feed(text, c.emitter());
  ASSERT_EQ(c.lines.size(), 2u);
  EXPECT_EQ(c.lines[0].size(), 300u);
  EXPECT_TRUE(c.infos[0].truncated);
  EXPECT_EQ(c.lines[1], "ok");
}

TEST(LineDecoderTest, InvalidUtf8AndBinaryPassThrough) {
  LineDecoder dec(LineFormat::kAuto, 512);
  dec.reset(0);
  Collected c;
  const char raw[] = "2024-05-01T12:00:00Z stdout F \xff\xfe\x00\x01\x80 bad\n";
  std::string bin(raw, sizeof raw - 1);
  std::mt19937 rng(7);
  std::string garbage(100000, '\0');
  for (auto& ch : garbage) ch = static_cast<char>(rng());
  dec.feed(std::string_view(bin.data(), bin.size()), c.emitter());
  dec.feed(garbage, c.emitter());
  dec.feed("\n", c.emitter());
  ASSERT_GE(c.lines.size(), 2u);
  EXPECT_EQ(c.lines[0], std::string_view("\xff\xfe\x00\x01\x80 bad", 9));
  for (const auto& l : c.lines) EXPECT_LE(l.size(), 512u);
}

TEST(LineDecoderTest, RestoreRejoinsPendingPartialWithoutRepeats) {
  const std::string text =
      "2024-05-01T12:00:00Z stdout P first-half \n"  // pending when the checkpoint is taken
      "2024-05-01T12:00:00Z stderr F err line\n"     // already handed on
      "2024-05-01T12:00:00Z stdout F second-half\n"
      "2024-05-01T12:00:00Z stderr F after\n";
  LineDecoder a(LineFormat::kCri, 1024);
  a.reset(0);
  Collected ca;
  const size_t cut = text.find("2024-05-01T12:00:00Z stdout F");
  a.feed(std::string_view(text).substr(0, cut), ca.emitter());
  ASSERT_EQ(ca.lines.size(), 1u);
  DecoderPosition pos = a.position();
  EXPECT_EQ(pos.done, cut);
  EXPECT_EQ(pos.pending[0], 0u);
  // A restart from that position.
  LineDecoder b(LineFormat::kCri, 1024);
  b.restore(pos);
  EXPECT_EQ(b.next_offset(), 0u);
  Collected cb;
  b.feed(text, cb.emitter());
  ASSERT_EQ(cb.lines.size(), 2u);
  EXPECT_EQ(cb.lines[0], "first-half second-half");
  EXPECT_EQ(cb.lines[1], "after");
}

TEST(LineDecoderTest, FinishFlushesUnterminatedTail) {
  LineDecoder dec(LineFormat::kPlain, 100);
  dec.reset(0);
  Collected c;
  dec.feed("one\ntwo", c.emitter());
  EXPECT_EQ(c.lines.size(), 1u);
  dec.finish(c.emitter());
  ASSERT_EQ(c.lines.size(), 2u);
  EXPECT_EQ(c.lines[1], "two");
}

// The documented per-file cap (docs/operations.md, memory budget): whatever a pod writes, what
// a followed file holds between reads stays within buffer_cap(max_line_bytes), which is one
// max_line_bytes shared by the unterminated tail and both streams' partial lines, plus slack.
TEST(LineDecoderTest, PerFileBuffersStayWithinTheDocumentedCap) {
  constexpr size_t kMax = 64 * 1024;
  const size_t cap = LineDecoder::buffer_cap(kMax);
  EXPECT_LE(cap, kMax + 8 * 1024);
  std::mt19937 rng(7);
  const std::string ts = "2024-05-01T12:00:00.000000001Z ";
  for (int round = 0; round < 20; ++round) {
    LineDecoder dec(LineFormat::kAuto, kMax);
    dec.reset(0);
    // Both streams hold long partial lines, Docker JSON lines need unescaping, and every
    // chunk ends inside a long unterminated line.
    std::string text;
    for (int i = 0; i < 40; ++i) {
      const size_t n = 1000 + rng() % 40000;
      switch (rng() % 4) {
        case 0:
          text += ts + "stdout P " + std::string(n, 'o') + "\n";
          break;
        case 1:
          text += ts + "stderr P " + std::string(n, 'e') + "\n";
          break;
        case 2:
          text += "{\"log\":\"" + std::string(n / 2, 'j') + "\\\"q\\\"" +
                  "\\n\",\"stream\":\"stdout\"}\n";
          break;
        default:
          text += ts + (rng() % 2 ? "stdout" : "stderr") + " F " + std::string(n, 'f') + "\n";
      }
    }
    size_t lines = 0;
    auto count = [&](const DecodedInfo& i, std::string_view m) {
      ++lines;
      EXPECT_LE(m.size(), kMax);
      (void)i;
    };
    for (size_t at = 0; at < text.size();) {
      const size_t step = 1 + rng() % (96 * 1024);
      dec.feed(std::string_view(text).substr(at, step), count);
      at += step;
      ASSERT_LE(dec.buffered_bytes(), cap) << "round " << round << " at " << at;
    }
    EXPECT_GT(lines, 0u);
  }
}

}  // namespace
}  // namespace ng::probes::logs
