// The http check against a tiny HTTP server on 127.0.0.1 (and openssl s_server for TLS).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

#include "failoverd/health/http_check.h"
#include "health/fake_http_server.h"
#include "health/test_support.h"

namespace failoverd::health {
namespace {

using namespace std::chrono_literals;
using testing::FakeHttpServer;

config::HttpCheckSpec spec(std::string url, int status = 200,
                           std::optional<std::string> body = std::nullopt) {
  config::HttpCheckSpec s;
  s.url = std::move(url);
  s.expect_status = status;
  s.expect_body = std::move(body);
  return s;
}

// Answers /health with 200 "status: ok", /down with 503, /slow never, /big with 5 MiB.
FakeHttpServer::Handler service() {
  return [](FakeHttpServer& s, int fd, const std::string& line) {
    if (line.rfind("GET /health ", 0) == 0) {
      FakeHttpServer::send_all(fd, FakeHttpServer::response(200, "status: ok\n", "text/plain"));
    } else if (line.rfind("GET /down ", 0) == 0) {
      FakeHttpServer::send_all(fd, FakeHttpServer::response(503, "maintenance", "text/plain"));
    } else if (line.rfind("GET /slow ", 0) == 0) {
      s.wait_for_stop(10s);
    } else if (line.rfind("GET /big ", 0) == 0) {
      std::string body(5 << 20, 'x');
      body += "needle";
      FakeHttpServer::send_all(fd, FakeHttpServer::response(200, body, "text/plain"));
    } else if (line.rfind("GET /redirect ", 0) == 0) {
      FakeHttpServer::send_all(fd, "HTTP/1.1 302 Found\r\nLocation: /health\r\n"
                                   "Content-Length: 0\r\nConnection: close\r\n\r\n");
    } else {
      FakeHttpServer::send_all(fd, FakeHttpServer::response(404, "", "text/plain"));
    }
  };
}

std::string base(const FakeHttpServer& s) {
  return "http://127.0.0.1:" + std::to_string(s.port());
}

TEST(HttpCheck, StatusAndBody) {
  FakeHttpServer server(service());
  auto r = HttpCheck(spec(base(server) + "/health"), 1s).run();
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.detail, "GET " + base(server) + "/health: HTTP 200");

  r = HttpCheck(spec(base(server) + "/health", 200, "status: ok"), 1s).run();
  EXPECT_TRUE(r.ok) << r.detail;

  r = HttpCheck(spec(base(server) + "/health", 200, "status: degraded"), 1s).run();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail,
            "GET " + base(server) + "/health: HTTP 200, body does not contain \"status: degraded\"");

  r = HttpCheck(spec(base(server) + "/down"), 1s).run();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "GET " + base(server) + "/down: HTTP 503, expected 200");

  r = HttpCheck(spec(base(server) + "/down", 503), 1s).run();
  EXPECT_TRUE(r.ok);
}

TEST(HttpCheck, RedirectsAreNotFollowed) {
  FakeHttpServer server(service());
  const auto r = HttpCheck(spec(base(server) + "/redirect"), 1s).run();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "GET " + base(server) + "/redirect: HTTP 302, expected 200");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(HttpCheck, OnlyTheFirstMebibyteIsSearched) {
  FakeHttpServer server(service());
  const auto r = HttpCheck(spec(base(server) + "/big", 200, "needle"), 2s).run();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "GET " + base(server) +
                          "/big: HTTP 200, body does not contain \"needle\" (first 1 MiB searched)");
  // Without expect_body nothing is read at all, and the status still counts.
  EXPECT_TRUE(HttpCheck(spec(base(server) + "/big"), 2s).run().ok);
}

TEST(HttpCheck, ReusedCheckKeepsWorking) {
  FakeHttpServer server(service());
  HttpCheck check(spec(base(server) + "/health", 200, "ok"), 1s);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(check.run().ok);
}

TEST(HttpCheck, Timeout) {
  FakeHttpServer server(service());
  const auto r = HttpCheck(spec(base(server) + "/slow"), 300ms).run();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "GET " + base(server) + "/slow: no answer within 300ms");
  EXPECT_LT(r.duration, 800ms);
}

TEST(HttpCheck, ConnectionRefused) {
  int port;
  {
    FakeHttpServer server(service());
    port = server.port();
  }  // closed: nothing listens there now
  const auto r = HttpCheck(spec("http://127.0.0.1:" + std::to_string(port) + "/"), 1s).run();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "GET http://127.0.0.1:" + std::to_string(port) +
                          "/: cannot connect: Connection refused");
}

TEST(HttpCheck, HostThatDoesNotResolve) {
  CheckResult r;
  if (!in_empty_netns([&] { r = HttpCheck(spec("http://no-such-host.invalid/health"), 2s).run(); })) {
    GTEST_SKIP() << "needs root (a network namespace keeps the lookup off the network)";
  }
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.detail.find("resolve"), std::string::npos) << r.detail;
  EXPECT_EQ(r.detail.rfind("GET http://no-such-host.invalid/health: ", 0), 0u) << r.detail;
  EXPECT_LT(r.duration, 2500ms);
}

TEST(HttpCheck, CredentialsNeverReachTheDetail) {
  FakeHttpServer server(service());
  const auto url = "http://admin:s3cret@127.0.0.1:" + std::to_string(server.port()) + "/down";
  const auto r = HttpCheck(spec(url), 1s).run();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail.find("s3cret"), std::string::npos) << r.detail;
  EXPECT_EQ(redact_url("https://u:p@h:1/x@y?z"), "https://h:1/x@y?z");
  EXPECT_EQ(redact_url("http://h/path@x"), "http://h/path@x");
  EXPECT_EQ(redact_url("not a url"), "not a url");
}

TEST(HttpCheck, OtherSchemesAreRefused) {
  const auto r = HttpCheck(spec("file:///etc/passwd"), 1s).run();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "GET file:///etc/passwd: unsupported URL scheme (http and https only)");
}

// TLS verification against a real TLS server with a self-signed certificate: refused by
// default, accepted with tls_verify = false. Needs the openssl program.
TEST(HttpCheck, TlsVerificationIsOnByDefault) {
  if (::access("/usr/bin/openssl", X_OK) != 0) GTEST_SKIP() << "openssl program not installed";
  testing::TempDir dir;
  const std::string key = dir / "key.pem", cert = dir / "cert.pem";
  const std::string gen = "/usr/bin/openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "
                          "/CN=127.0.0.1 -keyout " + key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(gen.c_str()), 0);
  int port;
  {
    FakeHttpServer probe(service());
    port = probe.port();
  }
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int null_fd = ::open("/dev/null", O_RDWR);
    ::dup2(null_fd, 0);
    ::dup2(null_fd, 1);
    ::dup2(null_fd, 2);
    ::execl("/usr/bin/openssl", "openssl", "s_server", "-quiet", "-www", "-accept",
            ("127.0.0.1:" + std::to_string(port)).c_str(), "-cert", cert.c_str(), "-key",
            key.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/";
  // Wait until it listens.
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    auto s = spec(url);
    s.tls_verify = false;
    up = HttpCheck(s, 1s).run().ok;
    if (!up) std::this_thread::sleep_for(50ms);
  }
  auto verified = HttpCheck(spec(url), 2s).run();
  auto s = spec(url);
  s.tls_verify = false;
  auto unverified = HttpCheck(s, 2s).run();
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);

  ASSERT_TRUE(up) << "openssl s_server did not come up";
  EXPECT_FALSE(verified.ok);
  EXPECT_EQ(verified.detail.rfind("GET " + url + ": TLS: ", 0), 0u) << verified.detail;
  EXPECT_TRUE(unverified.ok) << unverified.detail;
}

}  // namespace
}  // namespace failoverd::health
