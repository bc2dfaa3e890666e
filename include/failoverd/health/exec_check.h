// The exec check: run a command (argv, no shell); exit status 0 is healthy.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "failoverd/config/config.h"
#include "failoverd/health/check.h"

namespace failoverd::health {

// This much of the command's stdout+stderr goes into the detail; the rest is read and dropped
// so the command never blocks on a full pipe.
inline constexpr std::size_t kExecMaxOutput = 512;

// Who the command runs as: resolved once, when the check is built, because user and group
// look-ups (NSS) are not safe between fork() and exec() in a threaded program.
struct RunAs {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups, as initgroups() would set them
};

// getpwnam_r + getgrouplist; throws std::runtime_error("unknown user 'x'") when absent.
RunAs lookup_user(const std::string& name);

// Each run: fork, then in the child a new process group, stdin from /dev/null, stdout and
// stderr into one pipe, every other descriptor closed, signal mask and dispositions reset, the
// user switched (setgroups/setgid/setuid) when configured, execve. argv[0] without a '/' is
// looked up in the daemon's PATH. At the timeout the whole process group is killed (SIGKILL)
// and reaped. When the command exits, whatever it left in its process group (a background
// child still holding the pipe) is killed too, so the check never waits on grandchildren.
class ExecCheck final : public Check {
 public:
  ExecCheck(config::ExecCheckSpec spec, std::chrono::microseconds timeout,
            std::optional<RunAs> run_as);

  CheckResult run() override;

 private:
  config::ExecCheckSpec spec_;
  std::chrono::microseconds timeout_;
  std::optional<RunAs> run_as_;
};

}  // namespace failoverd::health
