// The metrics server's request reader on plain bytes (metrics/http_request.h): where a head
// ends and what its first line says. Everything a scraper, or anyone else who reaches the
// port, sends goes through these two functions.
#include "failoverd/metrics/http_request.h"

#include <gtest/gtest.h>

#include <string>

namespace failoverd::metrics {
namespace {

using namespace std::literals;
constexpr auto npos = std::string_view::npos;

TEST(EndOfHttpHead, CrlfAndBareLfBothEndAHead) {
  EXPECT_EQ(end_of_http_head("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 27u);
  EXPECT_EQ(end_of_http_head("GET / HTTP/1.0\n\n"), 16u);
  // Whichever ends first wins, and the body after it is not part of the head.
  EXPECT_EQ(end_of_http_head("GET / HTTP/1.1\n\nX\r\n\r\n"), 16u);
  EXPECT_EQ(end_of_http_head("GET / HTTP/1.1\r\n\r\nbody\n\n"), 18u);
  // A mixed "\r\n\n" ends at its "\n\n".
  EXPECT_EQ(end_of_http_head("A\r\n\n"), 4u);
}

TEST(EndOfHttpHead, IncompleteIsNpos) {
  EXPECT_EQ(end_of_http_head(""), npos);
  EXPECT_EQ(end_of_http_head("GET / HTTP/1.1\r\n"), npos);
  EXPECT_EQ(end_of_http_head("GET / HTTP/1.1\r\nHost: x\r\n\r"), npos);
  EXPECT_EQ(end_of_http_head("\r\r\r\r"), npos);
  EXPECT_EQ(end_of_http_head(std::string(1 << 20, 'x')), npos);
}

TEST(ParseHttpRequestLine, ReadsMethodAndPathWithoutTheQuery) {
  const auto r = parse_http_request_line("GET /metrics?debug=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->path, "/metrics");

  const auto head = parse_http_request_line("HEAD / HTTP/1.0\n\n");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->method, "HEAD");
  EXPECT_EQ(head->path, "/");

  const auto star = parse_http_request_line("OPTIONS * HTTP/1.1\r\n");
  ASSERT_TRUE(star);
  EXPECT_EQ(star->path, "*");

  // Any token is a method here; the server answers 405 for what it does not serve.
  const auto odd = parse_http_request_line("M-SEARCH! /x HTTP/1.1");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->method, "M-SEARCH!");
}

TEST(ParseHttpRequestLine, ViewsPointIntoTheHead) {
  const std::string head = "GET /metrics HTTP/1.1\r\n\r\n";
  const auto r = parse_http_request_line(head);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->method.data(), head.data());
  EXPECT_EQ(r->path.data(), head.data() + 4);
}

TEST(ParseHttpRequestLine, RefusesWhatIsNotAnHttp1RequestLine) {
  for (const std::string_view bad : {
           ""sv,
           "\r\n"sv,
           "GET"sv,
           "GET /"sv,
           "GET / "sv,
           " / HTTP/1.1"sv,              // no method
           "GET  HTTP/1.1"sv,            // no target
           "GET / HTTP/1.1 extra"sv,     // a third space
           "GET / HTTP/2.0"sv,
           "GET / http/1.1"sv,
           "PRI * HTTP/2.0"sv,
           "GET metrics HTTP/1.1"sv,     // neither "/..." nor "*"
           "GET *x HTTP/1.1"sv,
           "G(T / HTTP/1.1"sv,           // '(' is not a token character
           "\xc3\x28 / HTTP/1.1"sv,      // nor is invalid UTF-8
           "GET /a\tb HTTP/1.1"sv,       // control character in the target
           "GET /a\x7f HTTP/1.1"sv,      // DEL
           "GET /metrics\0 HTTP/1.1"sv,  // NUL
           "1e400\r\n\r\n"sv,
           "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"sv,  // a TLS client hello
       }) {
    EXPECT_FALSE(parse_http_request_line(bad)) << "accepted: " << std::string(bad);
  }
}

TEST(ParseHttpRequestLine, OnlyTheFirstLineCounts) {
  // A valid line further down does not make an invalid first line valid.
  EXPECT_FALSE(parse_http_request_line("garbage\r\nGET / HTTP/1.1\r\n\r\n"));
  // Bytes beyond 0x7f in the target are the server's to 404, not the reader's to refuse.
  const auto r = parse_http_request_line("GET /\xff\xfe HTTP/1.1\r\nX: \x01\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->path, "/\xff\xfe");
}

TEST(ParseHttpRequestLine, AMegabyteTargetIsReadInOnePass) {
  // The server stops reading at 8 KiB; the reader itself has no limit and stays linear.
  const std::string head = "GET /" + std::string(1 << 20, 'a') + " HTTP/1.1\r\n\r\n";
  const auto r = parse_http_request_line(head);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->path.size(), (1u << 20) + 1);
}

}  // namespace
}  // namespace failoverd::metrics
