// The tcp check against listening and closed ports on 127.0.0.1.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "failoverd/health/tcp_check.h"
#include "health/test_support.h"

namespace failoverd::health {
namespace {

using namespace std::chrono_literals;

struct Listener {
  int fd = -1;
  std::uint16_t port = 0;
  explicit Listener(int backlog) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd, backlog);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~Listener() { ::close(fd); }
};

config::TcpCheckSpec spec(std::string host, std::uint16_t port) {
  config::TcpCheckSpec s;
  s.address = {std::move(host), port};
  return s;
}

TEST(TcpCheck, ConnectsToAListeningPort) {
  Listener l(16);
  const auto r = TcpCheck(spec("127.0.0.1", l.port), 1s).run();
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.detail, "connected to 127.0.0.1:" + std::to_string(l.port));
}

TEST(TcpCheck, ResolvesAHostName) {
  Listener l(16);
  const auto r = TcpCheck(spec("localhost", l.port), 1s).run();
  // localhost may resolve to ::1 first (refused: we listen on IPv4 only), then 127.0.0.1.
  EXPECT_TRUE(r.ok) << r.detail;
}

TEST(TcpCheck, ClosedPortIsRefused) {
  std::uint16_t port;
  {
    Listener l(16);
    port = l.port;
  }
  const auto r = TcpCheck(spec("127.0.0.1", port), 1s).run();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "127.0.0.1:" + std::to_string(port) + ": Connection refused");
  EXPECT_LT(r.duration, 500ms);
}

TEST(TcpCheck, UnresolvableHost) {
  CheckResult r;
  if (!in_empty_netns([&] { r = TcpCheck(spec("no-such-host.invalid", 80), 2s).run(); })) {
    GTEST_SKIP() << "needs root (a network namespace keeps the lookup off the network)";
  }
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.detail.find("resolve"), std::string::npos) << r.detail;
  EXPECT_EQ(r.detail.rfind("no-such-host.invalid:80: ", 0), 0u) << r.detail;
  EXPECT_LT(r.duration, 2500ms);
}

// A listener whose accept queue is full drops further SYNs: connect() neither succeeds nor
// fails, and only the timeout ends the check.
TEST(TcpCheck, UnansweredConnectTimesOut) {
  Listener l(0);
  std::vector<int> fillers;
  bool full = false;
  for (int i = 0; i < 8 && !full; ++i) {
    const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(l.port);
    ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
    fillers.push_back(c);
    pollfd p{c, POLLOUT, 0};
    full = ::poll(&p, 1, 200) == 0;
  }
  if (!full) {
    for (int c : fillers) ::close(c);
    GTEST_SKIP() << "could not fill the accept queue on this kernel";
  }
  const auto r = TcpCheck(spec("127.0.0.1", l.port), 300ms).run();
  for (int c : fillers) ::close(c);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail,
            "127.0.0.1:" + std::to_string(l.port) + ": no connection within 300ms");
  EXPECT_GE(r.duration, 280ms);
  EXPECT_LT(r.duration, 800ms);
}

}  // namespace
}  // namespace failoverd::health
