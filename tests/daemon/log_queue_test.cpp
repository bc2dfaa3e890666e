// The log queue: lines in order, a stalled stream never holds up the caller, and what had to be
// dropped is counted and then said in the stream itself.
#include "failoverd/daemon/log_queue.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <spdlog/logger.h>

#include <memory>
#include <regex>
#include <string>
#include <thread>

namespace failoverd::daemon {
namespace {

class Pipe {
 public:
  Pipe() {
    EXPECT_EQ(::pipe2(fds_, O_CLOEXEC), 0);
    // The smallest pipe the kernel gives (one page), so that it fills at once.
    ::fcntl(fds_[1], F_SETPIPE_SZ, 4096);
  }
  ~Pipe() {
    ::close(fds_[0]);
    if (fds_[1] >= 0) ::close(fds_[1]);
  }
  int write_end() const { return fds_[1]; }
  void close_write_end() {
    ::close(fds_[1]);
    fds_[1] = -1;
  }
  // Everything until the write end is closed.
  std::string read_all() const {
    std::string out;
    char buf[65536];
    for (;;) {
      const ssize_t n = ::read(fds_[0], buf, sizeof buf);
      if (n <= 0) return out;
      out.append(buf, static_cast<std::size_t>(n));
    }
  }

 private:
  int fds_[2] = {-1, -1};
};

std::shared_ptr<spdlog::logger> logger_on(const std::shared_ptr<QueuedSink>& sink) {
  sink->set_pattern("[%n] %l: %v");
  auto log = std::make_shared<spdlog::logger>("web", sink);
  log->set_level(spdlog::level::trace);
  return log;
}

std::uint64_t count_of(const std::string& text, const std::string& what) {
  std::uint64_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(QueuedSink, WritesEveryLineInOrder) {
  Pipe pipe;
  {
    auto sink = std::make_shared<QueuedSink>(pipe.write_end(), 16);
    auto log = logger_on(sink);
    log->info("INIT -> BACKUP");
    log->warn("check web failing");
    log->info("BACKUP -> MASTER");
    EXPECT_TRUE(sink->drain(std::chrono::seconds(10)));
    EXPECT_EQ(sink->dropped(), 0u);
  }
  pipe.close_write_end();
  EXPECT_EQ(pipe.read_all(),
            "[web] info: INIT -> BACKUP\n"
            "[web] warning: check web failing\n"
            "[web] info: BACKUP -> MASTER\n");
}

TEST(QueuedSink, AStalledStreamDropsAndCountsInsteadOfWaiting) {
  Pipe pipe;
  std::string out;
  {
    auto sink = std::make_shared<QueuedSink>(pipe.write_end(), 100);
    auto log = logger_on(sink);
    // Nobody reads the pipe: after one page it is full and the writer is stuck in write(2).
    // Were log() to wait for the stream, this loop would never end (and the test time out).
    const std::string padding(100, 'x');
    constexpr int kLines = 20000;
    for (int i = 0; i < kLines; ++i) log->info("line {} {}", i, padding);
    const std::uint64_t dropped = sink->dropped();
    EXPECT_GT(dropped, 0u);
    EXPECT_LT(dropped, static_cast<std::uint64_t>(kLines));
    EXPECT_FALSE(sink->drain(std::chrono::milliseconds(50))) << "the stream is stalled";

    // The stream moves again: the next line is preceded by the count of what was lost.
    std::thread reader([&] { out = pipe.read_all(); });
    EXPECT_TRUE(sink->drain(std::chrono::seconds(10)));
    log->info("after the stall");
    EXPECT_TRUE(sink->drain(std::chrono::seconds(10)));
    EXPECT_EQ(sink->dropped(), dropped);
    sink.reset();
    log.reset();
    pipe.close_write_end();
    reader.join();

    EXPECT_EQ(count_of(out, "] info: line "), kLines - dropped);
    // Every gap is said where it is, with its size (the writer may have moved a little while
    // the lines came in, so there can be more than one notice); together they give the count.
    const std::regex notice(
        R"(\[web\] warning: (\d+) log lines dropped: the log stream did not keep up\n)");
    std::uint64_t said = 0;
    std::string last_notice;
    for (std::sregex_iterator it(out.begin(), out.end(), notice), end; it != end; ++it) {
      said += std::stoull((*it)[1]);
      last_notice = it->str();
    }
    EXPECT_EQ(said, dropped);
    EXPECT_NE(out.find(last_notice + "[web] info: after the stall\n"), std::string::npos)
        << out.substr(out.size() > 400 ? out.size() - 400 : 0);
    // What was written is the oldest lines, in order: line 0 first.
    EXPECT_EQ(out.rfind("[web] info: line 0 ", 0), 0u);
  }
}

TEST(QueuedSink, HonoursItsLevel) {
  Pipe pipe;
  {
    auto sink = std::make_shared<QueuedSink>(pipe.write_end(), 16);
    auto log = logger_on(sink);
    sink->set_level(spdlog::level::warn);
    log->info("not this");
    log->error("this");
    EXPECT_TRUE(sink->drain(std::chrono::seconds(10)));
  }
  pipe.close_write_end();
  EXPECT_EQ(pipe.read_all(), "[web] error: this\n");
}

}  // namespace
}  // namespace failoverd::daemon
