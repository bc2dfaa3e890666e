// The exec check: run a command (argv, no shell); exit status 0 is healthy.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "failoverd/config/config.h"
#include "failoverd/health/check.h"
#include "failoverd/util/subprocess.h"

namespace failoverd::health {

// This much of the command's stdout+stderr goes into the detail; the rest is read and dropped
// so the command never blocks on a full pipe.
inline constexpr std::size_t kExecMaxOutput = 512;

// Who the command runs as: resolved once, when the check is built (see util::RunAs).
using util::lookup_user;
using util::RunAs;

// Each run is one util::run_subprocess(): argv without a shell (argv[0] without a '/' looked up
// in the daemon's PATH), the daemon's environment, its own process group, stdin from
// /dev/null, stdout and stderr into one pipe, no other descriptors, the user switched when
// configured. At the timeout the whole process group is killed (SIGKILL) and reaped; when the
// command exits, whatever it left in its process group is killed too, so the check never
// waits on grandchildren. The detail is "exit status N: <output on one line>".
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
