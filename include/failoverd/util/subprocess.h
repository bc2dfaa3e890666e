// Running one command to completion, bounded: the process handling shared by the exec check,
// the notify hooks and the exec provider.
//
// run_subprocess() forks and execve()s argv (no shell). In the child: a new process group,
// signal mask and dispositions reset (ignored ones too), stdin from /dev/null, stdout and
// stderr into pipes (one shared pipe, or two), every other descriptor closed, then the user
// switched (setgroups/setgid/setuid) when asked. The parent reads the pipes without blocking
// the command (beyond max_output bytes are read and counted, not kept). At the timeout, or when
// abort_fd becomes readable, the whole process group is killed with SIGKILL; when the command
// exits by itself whatever it left in its group (a background child still holding a pipe) is
// killed too, so a run never waits on grandchildren. The child is reaped by pid: no SIGCHLD
// handler and no waitpid(-1) are needed, and no zombie is left.
//
// Safe to call from several threads at once: between fork() and execve() only
// async-signal-safe calls are made (argv, envp and the program path are built before).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace failoverd::util {

// Who the command runs as: resolved once, ahead of time, because user and group look-ups
// (NSS) are not safe between fork() and exec() in a threaded program.
struct RunAs {
  std::string name;  // for messages
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups, as initgroups() would set them
};

// getpwnam_r + getgrouplist; throws std::runtime_error("unknown user 'x'") when absent.
RunAs lookup_user(const std::string& name);

struct SubprocessOptions {
  // argv[0] is the program; without a '/' it is looked up in the PATH the command gets.
  std::vector<std::string> argv;
  // true: the daemon's environment, then `env` on top; false: `env` alone.
  bool inherit_environment = true;
  // Added to (or overriding) the environment; names that are empty or hold '=' are dropped.
  std::map<std::string, std::string> env;
  std::optional<RunAs> run_as;  // nullopt: run as the daemon's user
  std::chrono::microseconds timeout{std::chrono::seconds(30)};
  // Bytes kept per stream; the rest is read, counted and dropped.
  std::size_t max_output = 4096;
  // false: stdout and stderr share one pipe, kept in `output`. true: stderr goes to `errors`.
  bool separate_stderr = false;
  // When this descriptor becomes readable (e.g. an eventfd written at shutdown), the run is cut
  // short: the group is killed and the outcome is kAborted. -1: none. Not read or closed here.
  int abort_fd = -1;
};

enum class SubprocessOutcome : std::uint8_t {
  kExited,         // exit_code holds its status
  kSignaled,       // signal holds the signal that ended it
  kTimedOut,       // killed, with its process group, at the timeout
  kAborted,        // killed, with its process group, because abort_fd became readable
  kFailedToStart,  // error/error_number say why: not found, execve or user switch failed, fork...
  kLost,           // it ran, but its end could not be observed (reaped elsewhere: SIGCHLD ignored?)
};
const char* to_string(SubprocessOutcome o);  // "exited", "signaled", "timed out", ...

struct CapturedOutput {
  std::string text;        // what was kept (see SubprocessResult)
  std::size_t total = 0;   // every byte the command wrote to the stream
  bool truncated() const { return total > text.size(); }
};

struct SubprocessResult {
  SubprocessOutcome outcome = SubprocessOutcome::kFailedToStart;
  int exit_code = -1;    // kExited
  int signal = 0;        // kSignaled
  int error_number = 0;  // kFailedToStart: the errno (ENOENT when not found in PATH)
  // kFailedToStart: "cannot execute /x: No such file or directory", "cannot execute x: not found
  // in PATH", "cannot switch to user nobody: ...", "cannot start x: fork: ..."; kLost: why.
  std::string error;
  CapturedOutput output;  // stdout (and stderr unless separate_stderr): the first max_output bytes
  CapturedOutput errors;  // separate_stderr only: the LAST max_output bytes (where errors end)
  std::chrono::microseconds duration{0};  // fork to reaped
  std::chrono::microseconds timeout{0};   // the limit it ran under, for messages
  pid_t pid = 0;                          // the command's pid (0 if it was never forked)

  bool succeeded() const { return outcome == SubprocessOutcome::kExited && exit_code == 0; }
};

// Blocks until the command has ended and is reaped (at most about timeout plus a few ms).
// Never throws for a command that cannot run: that is a kFailedToStart result.
SubprocessResult run_subprocess(const SubprocessOptions& options);

// "SIGTERM"; "signal 99" for numbers without a name.
std::string signal_name(int sig);

// How it ended, in one short phrase: "exit status 3", "killed by SIGTERM", "timed out after
// 300ms, process group killed", "aborted, process group killed", or `error`.
std::string describe(const SubprocessResult& r);

}  // namespace failoverd::util
