// Log lines for the journal: syslog priority prefixes when stderr is systemd's journal stream,
// the plain timestamped format otherwise.
#include "failoverd/daemon/logging.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

namespace failoverd::daemon {
namespace {

std::string format_with(bool journal, spdlog::level::level_enum level, const std::string& text) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  spdlog::logger logger("web", sink);
  logger.set_formatter(make_formatter(journal));
  logger.set_level(spdlog::level::trace);
  logger.log(level, text);
  logger.flush();
  return out.str();
}

TEST(Logging, JournalLinesStartWithTheSyslogPriority) {
  EXPECT_EQ(format_with(true, spdlog::level::info, "BACKUP -> MASTER"),
            "<6>[web] info: BACKUP -> MASTER\n");
  EXPECT_EQ(format_with(true, spdlog::level::warn, "w"), "<4>[web] warning: w\n");
  EXPECT_EQ(format_with(true, spdlog::level::err, "e"), "<3>[web] error: e\n");
  EXPECT_EQ(format_with(true, spdlog::level::critical, "c"), "<2>[web] critical: c\n");
  EXPECT_EQ(format_with(true, spdlog::level::debug, "d"), "<7>[web] debug: d\n");
}

TEST(Logging, PlainLinesCarryATimestamp) {
  const std::string line = format_with(false, spdlog::level::info, "hello");
  // "2026-11-22 23:11:48.324157 [web] info: hello"
  ASSERT_GE(line.size(), 27u);
  EXPECT_EQ(line[4], '-');
  EXPECT_EQ(line[19], '.');
  EXPECT_EQ(line.substr(26), " [web] info: hello\n");
}

TEST(Logging, JournalStreamMustNameStderrExactly) {
  EXPECT_TRUE(journal_stream_is("8:1234", 8, 1234));
  EXPECT_FALSE(journal_stream_is(nullptr, 8, 1234));
  EXPECT_FALSE(journal_stream_is("8:1235", 8, 1234));
  EXPECT_FALSE(journal_stream_is("9:1234", 8, 1234));
  for (const char* bad : {"", ":", "8", "8:", ":1234", "8:1234x", "x:1234", "8;1234"}) {
    EXPECT_FALSE(journal_stream_is(bad, 8, 1234)) << bad;
  }
}

}  // namespace
}  // namespace failoverd::daemon
