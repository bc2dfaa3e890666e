// spdlog set-up: every line carries the instance name, as FRR prefixes "[VRID n]".
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/formatter.h>
#include <spdlog/logger.h>

namespace failoverd::daemon {

// Logs to stderr through one queue for the whole process (daemon/log_queue.h): a call never
// waits for the stream; when the queue is full the line is dropped and counted. When stderr is
// the journal (systemd's $JOURNAL_STREAM names it), every line starts with its syslog priority
// ("<4>" for warn) and carries no timestamp of its own. The level comes from set_log_level.
std::shared_ptr<spdlog::logger> make_logger(const std::string& instance_name);

// Lines dropped so far because stderr did not keep up (failoverd_log_lines_dropped_total).
std::uint64_t log_lines_dropped();

// Waits up to a second for the queued lines to reach stderr; false if they did not. Before an
// exit, and before anything written to stderr directly, so the lines keep their order.
bool drain_logs();

// "trace", "debug", "info", "warn", "error"; false for anything else.
bool set_log_level(const std::string& level);

// The file descriptor is the journal's stream ($JOURNAL_STREAM names its device and inode):
// lines written to it should start with a syslog priority such as "<3>".
bool fd_is_the_journal(int fd);

// ---- exposed for tests ----

// "<2>" critical, "<3>" error, "<4>" warn, "<6>" info, "<7>" debug and trace.
std::string_view syslog_prefix(spdlog::level::level_enum level);
// $JOURNAL_STREAM ("DEVICE:INODE") names the file with this device and inode.
bool journal_stream_is(const char* journal_stream, dev_t dev, ino_t ino);
// The line format: the journal's, or the plain one with a wall-clock timestamp.
std::unique_ptr<spdlog::formatter> make_formatter(bool journal);

}  // namespace failoverd::daemon
