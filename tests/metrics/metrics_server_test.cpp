#include "failoverd/metrics/metrics_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "control/test_support.h"
#include "failoverd/metrics/metrics.h"

namespace failoverd::metrics {
namespace {

using namespace std::chrono_literals;
using namespace std::string_view_literals;
namespace asio = boost::asio;
using control::testing::RawConn;

constexpr std::string_view kBody = "failoverd_up{instance_name=\"web\"} 1\n";

// A MetricsServer on 127.0.0.1:0 served by an io_context on its own thread. `render` counts
// its calls and records the thread it ran on.
class LoopServer : public control::testing::ServerThread<MetricsServer> {
 public:
  explicit LoopServer(MetricsServerOptions options = {}, std::string body = std::string(kBody)) {
    start(
        "127.0.0.1:0",
        [this, body = std::move(body)]() -> std::string {
          ++renders_;
          render_thread_ = std::this_thread::get_id();
          if (throw_) throw std::runtime_error("snapshot failed");
          return body;
        },
        options);
    port_ = server().port();  // fixed once bound
  }
  ~LoopServer() { stop(); }  // before the members `render` uses go

  std::uint16_t port() const { return port_; }
  int renders() const { return renders_; }
  std::thread::id render_thread() const { return render_thread_; }
  void make_render_throw() { throw_ = true; }

 private:
  std::uint16_t port_ = 0;
  std::atomic<int> renders_{0};
  std::thread::id render_thread_;  // written on the loop, read after a response was received
  std::atomic<bool> throw_{false};
};

struct Response {
  std::string status_line;
  std::string headers;  // the header block, each line ending in "\r\n"
  std::string body;
};

// Splits a raw answer; a missing header/body separator fails the test.
Response split(const std::string& raw) {
  Response r;
  const auto line_end = raw.find("\r\n");
  const auto head_end = raw.find("\r\n\r\n");
  EXPECT_NE(head_end, std::string::npos) << "no end of headers in: " << raw;
  if (line_end == std::string::npos || head_end == std::string::npos) return r;
  r.status_line = raw.substr(0, line_end);
  r.headers = raw.substr(line_end + 2, head_end + 2 - (line_end + 2));
  r.body = raw.substr(head_end + 4);
  return r;
}

// Sends `request`, reads until the server closes, and checks the framing every answer has.
Response exchange(std::uint16_t port, std::string_view request) {
  Response r = split(control::testing::exchange_until_close(port, request));
  EXPECT_NE(r.headers.find("Connection: close\r\n"), std::string::npos) << r.headers;
  return r;
}

bool has_header(const Response& r, std::string_view line) {
  return r.headers.find(std::string(line) + "\r\n") != std::string::npos;
}

TEST(MetricsServer, GetMetricsAnswersTheRenderedTextInTheExpositionFormat) {
  LoopServer server;
  ASSERT_NE(server.port(), 0);
  const auto r = exchange(server.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.status_line, "HTTP/1.1 200 OK");
  EXPECT_TRUE(has_header(r, "Content-Type: text/plain; version=0.0.4; charset=utf-8")) << r.headers;
  EXPECT_TRUE(has_header(r, "Content-Length: " + std::to_string(kBody.size()))) << r.headers;
  EXPECT_EQ(r.body, kBody);
  EXPECT_EQ(server.renders(), 1);
  EXPECT_EQ(server.render_thread(), server.loop_thread());
  EXPECT_EQ(server.stats().served, 1u);
  EXPECT_EQ(kMetricsContentType, "text/plain; version=0.0.4; charset=utf-8");
}

TEST(MetricsServer, QueryStringsHttp10AndBareNewlinesAreAccepted) {
  LoopServer server;
  EXPECT_EQ(exchange(server.port(), "GET /metrics?x=1 HTTP/1.1\r\n\r\n").body, kBody);
  EXPECT_EQ(exchange(server.port(), "GET /metrics HTTP/1.0\r\n\r\n").body, kBody);
  EXPECT_EQ(exchange(server.port(), "GET /metrics HTTP/1.1\n\n").body, kBody);
  EXPECT_EQ(server.stats().served, 3u);
}

TEST(MetricsServer, HeadAnswersHeadersOnly) {
  LoopServer server;
  const auto r = exchange(server.port(), "HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.status_line, "HTTP/1.1 200 OK");
  EXPECT_TRUE(has_header(r, "Content-Length: " + std::to_string(kBody.size()))) << r.headers;
  EXPECT_EQ(r.body, "");
}

TEST(MetricsServer, OtherPathsAre404) {
  LoopServer server;
  for (const char* path : {"/", "/metricsx", "/metrics/", "/favicon.ico", "*"}) {
    const auto r = exchange(server.port(), "GET " + std::string(path) + " HTTP/1.1\r\n\r\n");
    EXPECT_EQ(r.status_line, "HTTP/1.1 404 Not Found") << path;
  }
  EXPECT_EQ(server.stats().not_found, 5u);
  EXPECT_EQ(server.renders(), 0);
}

TEST(MetricsServer, OtherMethodsAre405WithAllow) {
  LoopServer server;
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "get"}) {
    const auto r = exchange(server.port(), std::string(method) + " /metrics HTTP/1.1\r\n\r\n");
    EXPECT_EQ(r.status_line, "HTTP/1.1 405 Method Not Allowed") << method;
    EXPECT_TRUE(has_header(r, "Allow: GET, HEAD")) << r.headers;
  }
  EXPECT_EQ(server.stats().bad_method, 5u);
  EXPECT_EQ(server.renders(), 0);
}

TEST(MetricsServer, ARequestWithABodyStillGetsItsWholeAnswer) {
  // A large answer is still in the kernel's send queue when the server is done writing;
  // closing with the request body unread would reset the connection and discard it.
  const std::string big(4 << 20, 'x');
  LoopServer server({}, big);
  const std::string request_body(20000, 'b');
  const auto r = exchange(server.port(),
                          "GET /metrics HTTP/1.1\r\nContent-Length: 20000\r\n\r\n" + request_body);
  EXPECT_EQ(r.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(r.body.size(), big.size());
  EXPECT_TRUE(r.body == big);
}

TEST(MetricsServer, OversizedRequestsAre431AndClosed) {
  LoopServer server;
  // Headers that never end.
  const auto r1 =
      exchange(server.port(), "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(9000, 'a'));
  EXPECT_EQ(r1.status_line, "HTTP/1.1 431 Request Header Fields Too Large");
  EXPECT_EQ(r1.body, "request is longer than 8192 bytes\n");
  // A complete request that is too long, and a request line alone that is too long.
  const auto r2 = exchange(
      server.port(), "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(8200, 'a') + "\r\n\r\n");
  EXPECT_EQ(r2.status_line, "HTTP/1.1 431 Request Header Fields Too Large");
  const auto r3 = exchange(server.port(), "GET /" + std::string(10000, 'm') + " HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r3.status_line, "HTTP/1.1 431 Request Header Fields Too Large");
  EXPECT_EQ(server.stats().oversized, 3u);
  EXPECT_EQ(server.renders(), 0);
  // Exactly at the limit is fine.
  const std::string head = "GET /metrics HTTP/1.1\r\nX-Fill: ";
  const std::string fill(8192 - head.size() - 4, 'f');
  EXPECT_EQ(exchange(server.port(), head + fill + "\r\n\r\n").status_line, "HTTP/1.1 200 OK");
}

TEST(MetricsServer, GarbageIs400AndTheServerCarriesOn) {
  LoopServer server;
  const std::vector<std::string> garbage = {
      std::string("\x00\x01\xff\xfe garbage\r\n\r\n"sv),
      "\r\n\r\n",
      "GET\r\n\r\n",
      "GET /metrics\r\n\r\n",
      "GET /metrics HTTP/9.9\r\n\r\n",
      "GET  /metrics HTTP/1.1\r\n\r\n",
      "GET metrics HTTP/1.1\r\n\r\n",
      "G(T /metrics HTTP/1.1\r\n\r\n",
      std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n\n"sv),  // TLS ClientHello
  };
  for (const auto& g : garbage) {
    const auto r = exchange(server.port(), g);
    EXPECT_EQ(r.status_line, "HTTP/1.1 400 Bad Request") << ::testing::PrintToString(g);
  }
  EXPECT_EQ(server.stats().bad_request, garbage.size());
  {
    // Garbage without an end, then the client leaves: nothing to answer, nothing left open.
    RawConn c(server.port());
    c.send("\x01\x02 no end of headers");
    c.shutdown_write();
    bool eof = false;
    EXPECT_EQ(c.read_all(&eof), "");
    EXPECT_TRUE(eof);
  }
  EXPECT_TRUE(server.wait_for_connections(0));
  EXPECT_EQ(server.stats().disconnected, 1u);
  EXPECT_EQ(exchange(server.port(), "GET /metrics HTTP/1.1\r\n\r\n").body, kBody);
}

TEST(MetricsServer, SilentClientIsClosedAfterTheTimeoutWhileOthersAreServed) {
  LoopServer server;  // the default 2 s timeout
  RawConn silent(server.port(), 5000);
  ASSERT_TRUE(silent.connected());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(server.wait_for_connections(1));
  // Served at once, not after the silent client's timeout.
  const auto r = exchange(server.port(), "GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.body, kBody);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);

  bool eof = false;
  const std::string raw = silent.read_all(&eof);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(eof) << "the server must close the silent connection";
  EXPECT_EQ(split(raw).status_line, "HTTP/1.1 408 Request Timeout");
  EXPECT_GE(elapsed, 1900ms);
  EXPECT_LT(elapsed, 4s);
  EXPECT_EQ(server.stats().timed_out, 1u);
  EXPECT_TRUE(server.wait_for_connections(0));
}

TEST(MetricsServer, ASlowTrickleIsCutAtTheTimeoutToo) {
  MetricsServerOptions options;
  options.timeout = 300ms;
  LoopServer server(options);
  RawConn c(server.port());
  const auto start = std::chrono::steady_clock::now();
  bool gone = false;
  for (int i = 0; i < 40 && !gone; ++i) {  // one byte per 50 ms would take 2 s
    gone = !c.send("G");
    std::this_thread::sleep_for(50ms);
  }
  bool eof = false;
  const std::string raw = c.read_all(&eof);
  EXPECT_TRUE(eof);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);
  EXPECT_EQ(server.stats().timed_out, 1u);
  EXPECT_TRUE(server.wait_for_connections(0));
}

TEST(MetricsServer, ConnectionsBeyondTheLimitAre503) {
  LoopServer server;
  std::vector<std::unique_ptr<RawConn>> idle;
  for (int i = 0; i < 16; ++i) idle.push_back(std::make_unique<RawConn>(server.port()));
  ASSERT_TRUE(server.wait_for_connections(16));
  const auto r = exchange(server.port(), "GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.status_line, "HTTP/1.1 503 Service Unavailable");
  EXPECT_EQ(server.stats().busy, 1u);
  EXPECT_EQ(server.renders(), 0);
  idle.clear();
  ASSERT_TRUE(server.wait_for_connections(0));
  EXPECT_EQ(exchange(server.port(), "GET /metrics HTTP/1.1\r\n\r\n").body, kBody);
}

TEST(MetricsServer, ARenderThatThrowsIs500AndTheServerCarriesOn) {
  LoopServer server;
  server.make_render_throw();
  const auto r = exchange(server.port(), "GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.status_line, "HTTP/1.1 500 Internal Server Error");
  EXPECT_EQ(r.body, "cannot render metrics: snapshot failed\n");
  EXPECT_EQ(server.stats().render_errors, 1u);
  EXPECT_EQ(exchange(server.port(), "GET / HTTP/1.1\r\n\r\n").status_line,
            "HTTP/1.1 404 Not Found");
}

TEST(MetricsServer, StoppingWithOpenConnectionsClosesThem) {
  auto server = std::make_unique<LoopServer>();
  RawConn a(server->port()), b(server->port());
  a.send("GET /metr");
  ASSERT_TRUE(server->wait_for_connections(2));
  server->stop();  // must not hang on the open sessions or their timers
  bool eof = false;
  a.read_all(&eof);
  EXPECT_TRUE(eof);
  b.read_all(&eof);
  EXPECT_TRUE(eof);
  RawConn late(server->port(), 500);
  EXPECT_FALSE(late.connected());
}

TEST(MetricsServer, ServesOnIpv6Loopback) {
  asio::io_context io;
  std::unique_ptr<MetricsServer> server;
  try {
    server = std::make_unique<MetricsServer>(io, "[::1]:0", [] { return std::string(kBody); });
  } catch (const std::runtime_error& e) {
    GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
  }
  EXPECT_TRUE(server->local_endpoint().address().is_v6());
  EXPECT_NE(server->port(), 0);
}

TEST(MetricsServer, BindErrorsAreClear) {
  LoopServer first;
  asio::io_context io;
  const std::string taken = "127.0.0.1:" + std::to_string(first.port());
  try {
    MetricsServer second(io, taken, [] { return std::string(); });
    FAIL() << "binding a port in use must throw";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "metrics listen \"" + taken + "\": cannot bind: Address already in use");
  }
  EXPECT_THROW(MetricsServer(io, "localhost:9798", [] { return std::string(); }),
               std::runtime_error);
}

TEST(ParseListenAddress, AcceptsNumericIpv4AndBracketedIpv6) {
  auto a = parse_listen_address("127.0.0.1:9798");
  ASSERT_TRUE(a.has_value()) << a.error();
  EXPECT_EQ(a->address().to_string(), "127.0.0.1");
  EXPECT_EQ(a->port(), 9798);
  auto b = parse_listen_address("[::1]:0");
  ASSERT_TRUE(b.has_value()) << b.error();
  EXPECT_TRUE(b->address().is_v6());
  EXPECT_EQ(b->port(), 0);
  auto c = parse_listen_address("0.0.0.0:65535");
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(c->port(), 65535);
  EXPECT_TRUE(parse_listen_address("[::]:9798").has_value());
}

TEST(ParseListenAddress, RejectsWithASentence) {
  const auto error = [](std::string_view s) {
    auto r = parse_listen_address(s);
    return r.has_value() ? std::string("accepted") : r.error();
  };
  EXPECT_EQ(error("9798"),
            "metrics listen \"9798\": expected HOST:PORT, e.g. 127.0.0.1:9798 or [::1]:9798");
  EXPECT_EQ(error(""),
            "metrics listen \"\": expected HOST:PORT, e.g. 127.0.0.1:9798 or [::1]:9798");
  EXPECT_EQ(error("localhost:9798"),
            "metrics listen \"localhost:9798\": \"localhost\" is not a numeric IPv4 or IPv6 "
            "address");
  EXPECT_EQ(error(":9798"), "metrics listen \":9798\": \"\" is not a numeric IPv4 or IPv6 address");
  EXPECT_EQ(error("127.0.0.1:65536"),
            "metrics listen \"127.0.0.1:65536\": port \"65536\" is not a number from 0 to 65535");
  EXPECT_EQ(error("127.0.0.1:"),
            "metrics listen \"127.0.0.1:\": port \"\" is not a number from 0 to 65535");
  EXPECT_EQ(error("127.0.0.1:+80"),
            "metrics listen \"127.0.0.1:+80\": port \"+80\" is not a number from 0 to 65535");
  EXPECT_EQ(error("127.0.0.1:80x"),
            "metrics listen \"127.0.0.1:80x\": port \"80x\" is not a number from 0 to 65535");
  EXPECT_EQ(error("::1:9798"),
            "metrics listen \"::1:9798\": put an IPv6 address in brackets, e.g. [::1]:9798");
  EXPECT_EQ(error("[::1:9798"), "metrics listen \"[::1:9798\": missing ']' after the IPv6 address");
  EXPECT_EQ(error("[::1]9798"), "metrics listen \"[::1]9798\": expected \":PORT\" after ']'");
  EXPECT_EQ(error("[127.0.0.1]:80"),
            "metrics listen \"[127.0.0.1]:80\": brackets are for IPv6 addresses only");
  EXPECT_EQ(error("[fe80::1%1]:80"),
            "metrics listen \"[fe80::1%1]:80\": IPv6 zone ids are not supported");
}

}  // namespace
}  // namespace failoverd::metrics
