#include "failoverd/daemon/logging.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

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
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(instance_name, sink);
  logger->set_formatter(make_formatter(stderr_is_the_journal()));
  logger->set_level(g_level);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

bool set_log_level(const std::string& level) {
  const auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") return false;
  g_level = parsed;
  return true;
}

}  // namespace failoverd::daemon
