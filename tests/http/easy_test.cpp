// http::Easy against a small HTTP server on 127.0.0.1 (and on a unix socket) that the test
// starts: what comes back, and every failure as an error value.
#include "failoverd/http/easy.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "failoverd/util/text.h"
#include "health/fake_http_server.h"

namespace failoverd::http {
namespace {

using namespace std::chrono_literals;
using health::testing::FakeHttpServer;

// /hello: 200 with two headers; /big: a 2 MiB body; /slow: no answer; /fat-headers: 70 KiB of
// header lines; /empty: 204; anything else 404.
FakeHttpServer::Handler service() {
  return [](FakeHttpServer& s, int fd, const std::string& line) {
    const std::string target =
        line.substr(line.find(' ') + 1, line.rfind(' ') - line.find(' ') - 1);
    if (target == "/hello") {
      FakeHttpServer::send_all(
          fd, FakeHttpServer::response(200, "hello", "text/plain",
                                       "Api-Version:  1.41 \r\nX-Twice: one\r\nx-twice: two\r\n"));
    } else if (target == "/big") {
      FakeHttpServer::send_all(fd, FakeHttpServer::response(200, std::string(2 << 20, 'x')));
    } else if (target == "/slow") {
      s.wait_for_stop(10s);
    } else if (target == "/fat-headers") {
      std::string extra;
      for (int i = 0; i < 70; ++i)
        extra += "X-Filler-" + std::to_string(i) + ": " + std::string(1000, 'f') + "\r\n";
      FakeHttpServer::send_all(fd, FakeHttpServer::response(200, "", "text/plain", extra));
    } else if (target == "/empty") {
      FakeHttpServer::send_all(fd, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
    } else {
      FakeHttpServer::send_all(fd, FakeHttpServer::response(404, "no", "text/plain"));
    }
  };
}

std::string url(const FakeHttpServer& s, const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(s.port()) + path;
}

Easy open_easy() {
  auto easy = Easy::open();
  if (!easy) throw std::runtime_error(easy.error().message);
  return std::move(*easy);
}

Request get(std::string u) {
  Request r;
  r.url = std::move(u);
  r.timeout = 5s;
  r.proxy_from_environment = false;
  return r;
}

TEST(Easy, ReturnsStatusBodyAndHeaders) {
  FakeHttpServer server(service());
  Easy easy = open_easy();
  auto got = easy.perform(get(url(server, "/hello")));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "hello");
  EXPECT_FALSE(got->truncated);
  EXPECT_EQ(got->header("API-VERSION"), "1.41");  // any case, trimmed
  EXPECT_EQ(got->header("x-twice"), "two");       // the last one
  EXPECT_EQ(got->header("content-type"), "text/plain");
  EXPECT_EQ(got->header("absent"), std::nullopt);
  bool lower = true;
  for (const auto& [name, value] : got->headers) lower = lower && name == util::lower(name);
  EXPECT_TRUE(lower);
}

TEST(Easy, AnyStatusIsAResponseNotAnError) {
  FakeHttpServer server(service());
  Easy easy = open_easy();
  auto missing = easy.perform(get(url(server, "/nothing")));
  ASSERT_TRUE(missing) << missing.error().message;
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->body, "no");
  auto empty = easy.perform(get(url(server, "/empty")));
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_EQ(empty->status, 204);
  EXPECT_EQ(empty->body, "");
}

TEST(Easy, BodyOverTheCapIsAnError) {
  FakeHttpServer server(service());
  Easy easy = open_easy();
  Request r = get(url(server, "/big"));
  r.max_body = 1 << 20;
  auto got = easy.perform(r);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kBodyTooLarge);
  EXPECT_EQ(got.error().message, "response body larger than 1048576 bytes");

  // The same handle serves the next request: nothing of the failed one is left on it.
  auto next = easy.perform(get(url(server, "/hello")));
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->body, "hello");
}

TEST(Easy, BodyOverTheCapIsCutWhenAskedTo) {
  FakeHttpServer server(service());
  Easy easy = open_easy();
  Request r = get(url(server, "/big"));
  r.max_body = 1000;
  r.truncate_body = true;
  auto got = easy.perform(r);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 200);
  EXPECT_TRUE(got->truncated);
  EXPECT_EQ(got->body, std::string(1000, 'x'));
}

TEST(Easy, NoAnswerInTimeIsATimeoutError) {
  FakeHttpServer server(service());
  Easy easy = open_easy();
  Request r = get(url(server, "/slow"));
  r.timeout = 200ms;
  auto got = easy.perform(r);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kTimeout);
  EXPECT_FALSE(got.error().message.empty());
}

TEST(Easy, HeadersOverTheCapAreAnError) {
  FakeHttpServer server(service());
  Easy easy = open_easy();
  auto got = easy.perform(get(url(server, "/fat-headers")));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kHeadersTooLarge);
}

TEST(Easy, RefusedConnectionSaysWhy) {
  int port = 0;
  {
    FakeHttpServer gone(service());  // a port that was free a moment ago
    port = gone.port();
  }
  Easy easy = open_easy();
  auto got = easy.perform(get("http://127.0.0.1:" + std::to_string(port) + "/"));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kConnect);
  EXPECT_EQ(got.error().os_errno, ECONNREFUSED);
}

TEST(Easy, OnlyHttpAndHttps) {
  Easy easy = open_easy();
  auto got = easy.perform(get("file:///etc/passwd"));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kUnsupportedUrl);
}

TEST(Easy, RedirectIsReturnedNotFollowed) {
  FakeHttpServer server([](FakeHttpServer&, int fd, const std::string&) {
    FakeHttpServer::send_all(fd,
                             "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/\r\n"
                             "Content-Length: 0\r\nConnection: close\r\n\r\n");
  });
  Easy easy = open_easy();
  auto got = easy.perform(get(url(server, "/moved")));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 302);
  EXPECT_EQ(got->header("location"), "http://127.0.0.1:1/");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(Easy, MethodAndUnixSocket) {
  const std::string path = ::testing::TempDir() + "/easy_test_" + std::to_string(::getpid());
  FakeHttpServer server(path, service());
  Easy easy = open_easy();
  Request r = get("http://localhost/hello");
  r.unix_socket = path;
  r.method = "DELETE";
  auto got = easy.perform(r);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 200);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0], "DELETE /hello HTTP/1.1");
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace failoverd::http
