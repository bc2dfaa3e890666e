// The docker check's I/O against a fake Engine API on a unix socket: the happy path, version
// negotiation, and every way the engine can misbehave.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <iostream>

#include "failoverd/health/docker_check.h"
#include "health/fake_http_server.h"
#include "health/test_support.h"

namespace failoverd::health {
namespace {

using namespace std::chrono_literals;
using testing::FakeHttpServer;
using testing::TempDir;

// What podman's and Docker's /_ping answer: "OK", with the API version in a header.
const std::string kPing = FakeHttpServer::response(200, "OK", "text/plain", "Api-Version: 1.43\r\n");

bool is_ping(const std::string& line) { return line.rfind("GET /_ping ", 0) == 0; }

config::DockerCheckSpec spec(const std::string& socket, int min_running,
                             std::vector<std::string> labels = {}) {
  config::DockerCheckSpec s;
  s.socket = socket;
  s.min_running = min_running;
  s.labels = std::move(labels);
  return s;
}

// An engine that answers /_ping with `ping` and the listing with `listing`.
FakeHttpServer::Handler engine(std::string listing, std::string ping = kPing) {
  return [listing = std::move(listing), ping = std::move(ping)](
             FakeHttpServer&, int fd, const std::string& line) {
    if (is_ping(line)) {
      FakeHttpServer::send_all(fd, ping);
    } else if (line.find("/containers/json?filters=") != std::string::npos) {
      FakeHttpServer::send_all(fd, FakeHttpServer::response(200, listing));
    } else {
      FakeHttpServer::send_all(fd, FakeHttpServer::response(404, R"({"message":"no such path"})"));
    }
  };
}

TEST(DockerCheck, CountsWithTheNegotiatedVersionAndCachesIt) {
  TempDir dir;
  FakeHttpServer server(dir / "docker.sock", engine(podman_body()));
  DockerCheck check(spec(dir / "docker.sock", 3, {"com.docker.compose.project=labproj"}), 2s);

  auto r = check.run();
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.detail, "3 containers running, 3 required (label com.docker.compose.project=labproj)");
  EXPECT_GT(r.duration.count(), 0);
  EXPECT_EQ(check.api_version(), "1.43");
  r = check.run();
  EXPECT_TRUE(r.ok);

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0], "GET /_ping HTTP/1.1");
  const std::string listing =
      "GET /v1.43/containers/json?filters=%7B%22label%22%3A%5B%22com.docker.compose.project%3D"
      "labproj%22%5D%2C%22status%22%3A%5B%22running%22%5D%7D HTTP/1.1";
  EXPECT_EQ(requests[1], listing);
  EXPECT_EQ(requests[2], listing);  // the version is asked once
}

TEST(DockerCheck, FailsBelowMinRunning) {
  TempDir dir;
  FakeHttpServer server(dir / "docker.sock", engine(podman_body()));
  DockerCheck check(spec(dir / "docker.sock", 10, {"com.docker.compose.project=labproj"}), 2s);
  const auto r = check.run();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "3 of 10 required containers running (label com.docker.compose.project=labproj)");
}

// No usable Api-Version: what Docker's client does (fallbackAPIVersion 1.24, the version
// before negotiation existed; an engine without the header is that old).
TEST(DockerCheck, FallsBackTo124WhenPingSaysNothingUseful) {
  TempDir dir;
  FakeHttpServer server(dir / "docker.sock",
                        engine(podman_body(), FakeHttpServer::response(200, "OK", "text/plain",
                                                                       "API-Version: x/../y\r\n")));
  DockerCheck check(spec(dir / "docker.sock", 1), 2s);
  EXPECT_TRUE(check.run().ok);
  EXPECT_EQ(check.api_version(), "1.24");
  EXPECT_EQ(server.requests().back().rfind("GET /v1.24/containers/json?", 0), 0u);
}

TEST(DockerCheck, FallsBackTo124WhenThereIsNoPing) {
  TempDir dir;
  FakeHttpServer server(dir / "docker.sock",
                        engine(podman_body(), FakeHttpServer::response(404, "not found")));
  DockerCheck check(spec(dir / "docker.sock", 1), 2s);
  EXPECT_TRUE(check.run().ok);
  EXPECT_EQ(check.api_version(), "1.24");
}

TEST(DockerCheck, HeaderNameIsCaseInsensitive) {
  TempDir dir;
  FakeHttpServer server(dir / "docker.sock",
                        engine(podman_body(), FakeHttpServer::response(200, "OK", "text/plain",
                                                                       "api-version:1.44 \r\n")));
  DockerCheck check(spec(dir / "docker.sock", 1), 2s);
  EXPECT_TRUE(check.run().ok);
  EXPECT_EQ(check.api_version(), "1.44");
}

TEST(DockerCheck, MissingSocket) {
  TempDir dir;
  DockerCheck check(spec(dir / "nope.sock", 1), 1s);
  const auto r = check.run();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "docker socket " + (dir / "nope.sock") + ": No such file or directory");
}

TEST(DockerCheck, NotASocket) {
  TempDir dir;
  std::ofstream(dir / "file") << "x";
  DockerCheck check(spec(dir / "file", 1), 1s);
  EXPECT_EQ(check.run().detail, "docker socket " + (dir / "file") + ": not a socket");
}

TEST(DockerCheck, StoppedDaemonLeavesARefusingSocket) {
  TempDir dir;
  const std::string path = dir / "dead.sock";
  {  // bound and closed: the file stays, nobody listens
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  DockerCheck check(spec(path, 1), 1s);
  const auto r = check.run();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "docker socket " + path + ": Connection refused");
}

TEST(DockerCheck, SlowEngineTimesOut) {
  TempDir dir;
  FakeHttpServer server(dir / "docker.sock", [](FakeHttpServer& s, int, const std::string&) {
    s.wait_for_stop(10s);  // accepts, reads the request, never answers
  });
  DockerCheck check(spec(dir / "docker.sock", 1), 300ms);
  const auto r = check.run();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "docker API on " + (dir / "docker.sock") + " did not answer within 300ms");
  EXPECT_GE(r.duration, 280ms);
  EXPECT_LT(r.duration, 800ms);
}

TEST(DockerCheck, SlowListingAfterSlowPingSharesOneTimeout) {
  TempDir dir;
  FakeHttpServer server(dir / "docker.sock", [](FakeHttpServer& s, int fd, const std::string& l) {
    if (is_ping(l)) {
      s.wait_for_stop(200ms);
      FakeHttpServer::send_all(fd, kPing);
    } else {
      s.wait_for_stop(10s);
    }
  });
  DockerCheck check(spec(dir / "docker.sock", 1), 400ms);
  const auto r = check.run();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.detail.find("did not answer within 400ms"), std::string::npos) << r.detail;
  EXPECT_LT(r.duration, 800ms);
}

TEST(DockerCheck, NotJson) {
  TempDir dir;
  FakeHttpServer server(dir / "docker.sock", engine("<html><body>502 Bad Gateway</body></html>"));
  DockerCheck check(spec(dir / "docker.sock", 1), 1s);
  EXPECT_EQ(check.run().detail,
            "docker API: response is not JSON: \"<html><body>502 Bad Gateway</body></html...\"");
}

TEST(DockerCheck, NotAnArray) {
  TempDir dir;
  FakeHttpServer server(dir / "docker.sock", engine(R"({"Containers":[]})"));
  DockerCheck check(spec(dir / "docker.sock", 1), 1s);
  EXPECT_EQ(check.run().detail, "docker API: response is an object, not an array of containers");
}

TEST(DockerCheck, HugeBodyIsRefusedAtTheCap) {
  TempDir dir;
  FakeHttpServer server(dir / "docker.sock", [](FakeHttpServer&, int fd, const std::string& l) {
    if (is_ping(l)) {
      FakeHttpServer::send_all(fd, kPing);
      return;
    }
    // Claims 1 GiB and keeps sending until the client hangs up.
    FakeHttpServer::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 "Content-Length: 1073741824\r\n\r\n[");
    const std::string chunk(65536, ' ');
    for (int i = 0; i < 16384 && FakeHttpServer::send_all(fd, chunk); ++i) {
    }
  });
  DockerCheck check(spec(dir / "docker.sock", 1), 5s);
  const auto r = check.run();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "docker API answer is larger than 8 MiB; refused");
  EXPECT_LT(r.duration, 4s);
}

TEST(DockerCheck, ConnectionClosedMidBody) {
  TempDir dir;
  FakeHttpServer server(dir / "docker.sock", [](FakeHttpServer&, int fd, const std::string& l) {
    if (is_ping(l)) {
      FakeHttpServer::send_all(fd, kPing);
      return;
    }
    FakeHttpServer::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n[{\"Id\":\"a\",");
  });
  DockerCheck check(spec(dir / "docker.sock", 1), 2s);
  const auto r = check.run();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail.rfind("docker API closed the connection mid-response (", 0), 0u) << r.detail;
  EXPECT_LT(r.duration, 1s);
}

TEST(DockerCheck, ConnectionClosedWithoutAnswer) {
  TempDir dir;
  FakeHttpServer server(dir / "docker.sock", [](FakeHttpServer&, int, const std::string&) {});
  DockerCheck check(spec(dir / "docker.sock", 1), 2s);
  const auto r = check.run();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail.rfind("docker API closed the connection mid-response (", 0), 0u) << r.detail;
}

TEST(DockerCheck, NotHttpAtAll) {
  TempDir dir;
  FakeHttpServer server(dir / "docker.sock", [](FakeHttpServer&, int fd, const std::string&) {
    FakeHttpServer::send_all(fd, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
  });
  DockerCheck check(spec(dir / "docker.sock", 1), 2s);
  const auto r = check.run();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail.rfind("docker API", 0), 0u) << r.detail;
}

TEST(DockerCheck, HttpErrorShowsTheEngineMessageAndRenegotiates) {
  TempDir dir;
  FakeHttpServer server(dir / "docker.sock", [](FakeHttpServer&, int fd, const std::string& l) {
    if (is_ping(l)) {
      FakeHttpServer::send_all(fd, kPing);
      return;
    }
    FakeHttpServer::send_all(
        fd, FakeHttpServer::response(500, R"({"cause":"invalid filter","message":"invalid )"
                                          R"(filter \"label\": bad","response":500})"));
  });
  DockerCheck check(spec(dir / "docker.sock", 1, {"a=b"}), 2s);
  auto r = check.run();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "docker API: HTTP 500: invalid filter \"label\": bad");
  EXPECT_FALSE(check.api_version().has_value());
  r = check.run();
  EXPECT_EQ(server.requests().size(), 4u);  // /_ping asked again
  EXPECT_TRUE(is_ping(server.requests()[2]));
}

// The cost of one whole check (curl over the socket, parse, count): CPU time of the calling
// thread, printed for docs/benchmarks.md, not asserted.
TEST(DockerCheck, CostOfOneCheckAt10And100And1000Containers) {
  for (const int n : {10, 100, 1000}) {
    TempDir dir;
    FakeHttpServer server(dir / "docker.sock", engine(body_with(n)));
    DockerCheck check(spec(dir / "docker.sock", n, {"com.docker.compose.project=web"}), 5s);
    ASSERT_TRUE(check.run().ok);  // negotiates the version, warms up
    const int rounds = n >= 1000 ? 20 : 100;
    const double cpu0 = testing::thread_cpu_us();
    const auto wall0 = std::chrono::steady_clock::now();
    for (int i = 0; i < rounds; ++i) ASSERT_TRUE(check.run().ok);
    const double cpu = (testing::thread_cpu_us() - cpu0) / rounds;
    const double wall =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - wall0)
            .count() / rounds;
    std::cout << "[ cost     ] docker check, " << n << " containers: " << cpu << " us CPU, "
              << wall << " us wall\n";
  }
}

}  // namespace
}  // namespace failoverd::health
