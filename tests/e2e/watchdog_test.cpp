// The systemd side of a running daemon: READY=1 once it runs, STATUS= with the state, and
// WATCHDOG=1 pings from the event loop at half of WATCHDOG_USEC — listened for on a unix
// datagram socket standing in for systemd's NOTIFY_SOCKET.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness/harness.h"

namespace failoverd::e2e {
namespace {

// A bound AF_UNIX datagram socket; collects what the daemon sends for a while.
class NotifyListener {
 public:
  explicit NotifyListener(const std::filesystem::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
      throw std::runtime_error("bind failed: " + std::string(std::strerror(errno)));
    }
  }
  ~NotifyListener() { ::close(fd_); }

  // Every datagram that arrives within `for_how_long`.
  std::vector<std::string> collect(Ms for_how_long) {
    std::vector<std::string> out;
    const auto until = Clock::now() + for_how_long;
    while (Clock::now() < until) {
      const auto left = std::chrono::duration_cast<std::chrono::microseconds>(until - Clock::now());
      timeval tv{static_cast<time_t>(left.count() / 1000000),
                 static_cast<suseconds_t>(left.count() % 1000000)};
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) out.emplace_back(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

  std::string env() const { return "NOTIFY_SOCKET=" + path_.string(); }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

std::size_t count_with(const std::vector<std::string>& messages, const std::string& needle) {
  std::size_t n = 0;
  for (const auto& m : messages) n += m.find(needle) != std::string::npos ? 1 : 0;
  return n;
}

class Watchdog : public TwoHostTest {};

TEST_F(Watchdog, ReadyThenPingsAtHalfTheInterval) {
  NotifyListener systemd(dir() / "notify.sock");
  NodeConfig c = node_config(0, "node-a", 150);
  c.env = {systemd.env(), "WATCHDOG_USEC=200000"};
  Node& a = start_node(c);
  const auto messages = systemd.collect(2000ms);
  ASSERT_FALSE(messages.empty()) << a.log();
  // READY=1 once, before the first ping (STATUS= may come earlier: the first transition).
  const auto first_with = [&](const std::string& needle) {
    for (std::size_t i = 0; i < messages.size(); ++i) {
      if (messages[i].find(needle) != std::string::npos) return i;
    }
    return messages.size();
  };
  EXPECT_EQ(count_with(messages, "READY=1"), 1U);
  EXPECT_LT(first_with("READY=1"), first_with("WATCHDOG=1"));
  EXPECT_GE(count_with(messages, "STATUS=MASTER"), 1U);
  // Every 100 ms for about 2 s: about 20; a loaded CI machine may delay a few.
  const auto pings = count_with(messages, "WATCHDOG=1");
  EXPECT_GE(pings, 8U) << a.log();
  EXPECT_LE(pings, 25U);
  EXPECT_TRUE(a.wait_log("systemd watchdog: 200 ms")) << a.log();
}

TEST_F(Watchdog, NoPingsWhenTheWatchdogIsForAnotherProcess) {
  NotifyListener systemd(dir() / "notify.sock");
  NodeConfig c = node_config(0, "node-a", 150);
  // WATCHDOG_PID names another process (pid 1): the variable was inherited, not meant for us.
  c.env = {systemd.env(), "WATCHDOG_USEC=200000", "WATCHDOG_PID=1"};
  Node& a = start_node(c);
  const auto messages = systemd.collect(1000ms);
  EXPECT_EQ(count_with(messages, "READY=1"), 1U) << a.log();
  EXPECT_EQ(count_with(messages, "WATCHDOG=1"), 0U);
}

TEST_F(Watchdog, StoppedLoopStopsPinging) {
  NotifyListener systemd(dir() / "notify.sock");
  NodeConfig c = node_config(0, "node-a", 150);
  c.env = {systemd.env(), "WATCHDOG_USEC=200000"};
  Node& a = start_node(c);
  ASSERT_GE(count_with(systemd.collect(600ms), "WATCHDOG=1"), 2U) << a.log();
  // A frozen daemon (the loop cannot turn) must go silent so systemd can restart it.
  ::kill(a.pid(), SIGSTOP);
  const auto frozen = systemd.collect(600ms);
  ::kill(a.pid(), SIGCONT);
  EXPECT_LE(count_with(frozen, "WATCHDOG=1"), 1U);  // one may have been in flight
  EXPECT_GE(count_with(systemd.collect(600ms), "WATCHDOG=1"), 2U);
}

// Under systemd, stderr is the journal and $JOURNAL_STREAM names it: every line then starts
// with its syslog priority, so `journalctl -p warning` works. Here the "journal" is the log
// file the harness collects stderr in.
TEST_F(Watchdog, LinesCarryTheirPriorityWhenStderrIsTheJournal) {
  NodeConfig c = node_config(0, "node-a", 150);
  Node& a = add_node(c);
  write_file(a.log_path(), "");
  struct stat st {};
  ASSERT_EQ(::stat(a.log_path().c_str(), &st), 0);
  a.config().env = {"JOURNAL_STREAM=" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)};
  a.start();
  ASSERT_TRUE(a.wait_state("MASTER", 8s)) << a.log();
  const std::string log = a.log();
  EXPECT_NE(log.find("<6>[node-a] info: BACKUP -> MASTER"), std::string::npos) << log;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("=====", 0) == 0) continue;  // the harness's own marker
    EXPECT_EQ(line.front(), '<') << "a line without its priority: " << line;
  }
}

}  // namespace
}  // namespace failoverd::e2e
