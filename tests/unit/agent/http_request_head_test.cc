#include "agent/metrics/http_request_head.h"

#include <gtest/gtest.h>

namespace ng::agent {
namespace {

TEST(HttpRequestHead, ReadsTheRequestLineOfProbesAndScrapes) {
  auto h = parse_request_head(
      "GET /healthz HTTP/1.1\r\nHost: 10.0.0.1:9747\r\nUser-Agent: kube-probe/1.29\r\n\r\n");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->method, "GET");
  EXPECT_EQ(h->path, "/healthz");
  h = parse_request_head("\r\nHEAD /metrics?name[]=x HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->method, "HEAD");
  EXPECT_EQ(h->path, "/metrics");
}

TEST(HttpRequestHead, RefusesWhatIsNotARequestLine) {
  for (const char* bad : {"", "\r\n\r\n", "GET /healthz\r\n\r\n", "GET  /healthz HTTP/1.1\r\n\r\n",
                          "GET http://x/healthz HTTP/1.1\r\n\r\n", "GET /a b HTTP/1.1\r\n\r\n",
                          "GET /healthz HTTP/2\r\n\r\n", "G\x01T /healthz HTTP/1.1\r\n\r\n",
                          "GET /he\x7fz HTTP/1.1\r\n\r\n", "GET /healthz HTTP/1.1",
                          "AVERYLONGMETHODNAMEXX /healthz HTTP/1.1\r\n\r\n"}) {
    EXPECT_FALSE(parse_request_head(bad)) << bad;
  }
}

}  // namespace
}  // namespace ng::agent
