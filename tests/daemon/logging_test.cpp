// Log lines for the journal: syslog priority prefixes when stderr is systemd's journal stream,
// the plain timestamped format otherwise.
#include "failoverd/daemon/logging.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
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


// Runs `failoverd ARGS` with stdout and stderr in one file that $JOURNAL_STREAM names (as
// systemd does for a unit's output, or not) and returns what it wrote.
std::string run_failoverd_output(const std::string& args, bool journal) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("fod-journal-" + std::to_string(::getpid()) + (journal ? "-j" : "-p"));
  std::filesystem::create_directories(dir);
  const auto out = dir / "out";
  { std::ofstream(out.string()).put(' '); }
  struct stat st {};
  EXPECT_EQ(::stat(out.c_str(), &st), 0);
  const std::string env = journal ? "JOURNAL_STREAM=" + std::to_string(st.st_dev) + ":" +
                                        std::to_string(st.st_ino) + " "
                                  : "JOURNAL_STREAM= ";
  const std::string cmd = "cd " + dir.string() + " && " + env + FAILOVERD_BINARY_DIR +
                          "/failoverd " + args + " 1<>out 2>&1";
  EXPECT_NE(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(out.string());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove_all(dir);
  return text;
}

std::string write_bad_config() {
  const auto path = std::filesystem::temp_directory_path() /
                    ("fod-journal-bad-" + std::to_string(::getpid()) + ".conf");
  std::ofstream(path.string()) << "[instance]\nname = web\ninterface = lo\n"
                                  "[vrrp]\nvirtual_router_id = 51\npriority = 300\n";
  return path.string();
}

TEST(Logging, StartUpFailuresReachTheJournalAsErrors) {
  const auto conf = write_bad_config();
  for (const char* mode : {"--check-config ", "--config "}) {
    const auto text = run_failoverd_output(mode + conf, true);
    EXPECT_EQ(text.rfind("<3>" + conf + ": [vrrp] priority: 300 is out of range", 0), 0u)
        << mode << ": " << text;
  }
  std::filesystem::remove(conf);
}

TEST(Logging, StartUpFailuresArePlainOutsideTheJournal) {
  const auto conf = write_bad_config();
  const auto text = run_failoverd_output("--check-config " + conf, false);
  EXPECT_EQ(text.rfind(conf + ": [vrrp] priority: 300 is out of range", 0), 0u) << text;
  std::filesystem::remove(conf);
}

}  // namespace
}  // namespace failoverd::daemon
