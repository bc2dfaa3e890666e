#include "failoverd/daemon/logging.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string_view>

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include "failoverd/daemon/log_queue.h"

namespace failoverd::daemon {

namespace {

spdlog::level::level_enum g_level = spdlog::level::info;

// "<N>" at the start of a line: the syslog priority, which journald reads off a service's
// stderr (sd-daemon(3)) so that `journalctl -p warning` filters by level.
class SyslogPriority final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm& /*time*/,
              spdlog::memory_buf_t& dest) override {
    const std::string_view p = syslog_prefix(msg.level);
    dest.append(p.data(), p.data() + p.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<SyslogPriority>();
  }
};

bool stderr_is_the_journal() { return fd_is_the_journal(STDERR_FILENO); }

// Lines the queue holds while the stream is stalled: a burst of transitions and check lines,
// and at most about a megabyte.
constexpr std::size_t kQueuedLines = 4096;

// One queue for every logger of the process, made at the first logger (after the loop went
// realtime, see main.cpp). Never destroyed: a writer stuck on a stalled stream must not hold up
// the exit; main drains it first.
QueuedSink& stderr_queue() {
  static QueuedSink* const sink = [] {
    auto* s = new QueuedSink(STDERR_FILENO, kQueuedLines);
    s->set_formatter(make_formatter(stderr_is_the_journal()));
    return s;
  }();
  return *sink;
}

}  // namespace

bool fd_is_the_journal(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  return journal_stream_is(std::getenv("JOURNAL_STREAM"), st.st_dev, st.st_ino);
}

std::string_view syslog_prefix(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::critical: return "<2>";
    case spdlog::level::err: return "<3>";
    case spdlog::level::warn: return "<4>";
    case spdlog::level::info: return "<6>";
    default: return "<7>";  // debug, trace
  }
}

bool journal_stream_is(const char* journal_stream, dev_t dev, ino_t ino) {
  if (journal_stream == nullptr) return false;
  // "DEVICE:INODE", both decimal, as systemd.exec(5) documents.
  char* end = nullptr;
  const unsigned long long d = std::strtoull(journal_stream, &end, 10);
  if (end == journal_stream || *end != ':') return false;
  const char* ino_text = end + 1;
  const unsigned long long i = std::strtoull(ino_text, &end, 10);
  if (end == ino_text || *end != '\0') return false;
  return d == static_cast<unsigned long long>(dev) && i == static_cast<unsigned long long>(ino);
}

std::unique_ptr<spdlog::formatter> make_formatter(bool journal) {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  if (journal) {
    // The journal stamps every line itself; keep the level for people reading the text.
    f->add_flag<SyslogPriority>('*').set_pattern("%*[%n] %l: %v");
  } else {
    // Wall-clock time with microseconds: the demo and the benchmarks read transition times
    // from these lines.
    f->set_pattern("%Y-%m-%d %H:%M:%S.%f [%n] %l: %v");
  }
  return f;
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& instance_name) {
  // A shared_ptr that does not own the sink (see stderr_queue).
  std::shared_ptr<spdlog::sinks::sink> sink(std::shared_ptr<void>{}, &stderr_queue());
  auto logger = std::make_shared<spdlog::logger>(instance_name, std::move(sink));
  logger->set_level(g_level);
  return logger;
}

std::uint64_t log_lines_dropped() { return stderr_queue().dropped(); }

bool drain_logs() { return stderr_queue().drain(std::chrono::seconds(1)); }

bool set_log_level(const std::string& level) {
  const auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") return false;
  g_level = parsed;
  return true;
}

}  // namespace failoverd::daemon
