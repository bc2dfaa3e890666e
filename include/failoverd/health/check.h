// A health check: one blocking probe of the local service, bounded by the check's timeout.
//
// Checks run off the core thread (ARCHITECTURE.md): the daemon calls run() from a
// worker and posts the CheckResult back, where a Tracker (tracker.h) turns results into a
// healthy/unhealthy verdict. A Check object is not thread-safe: run() must not be called
// concurrently on the same object (different objects may run in parallel).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "failoverd/config/config.h"

namespace failoverd::health {

struct CheckResult {
  bool ok = false;
  // One line, valid UTF-8, at most a few hundred bytes: safe to log and to put in status JSON.
  // "3 of 10 required containers running (label com.docker.compose.project=web)".
  std::string detail;
  std::chrono::microseconds duration{0};  // wall time of the probe

  bool operator==(const CheckResult&) const = default;
};

class Check {
 public:
  virtual ~Check();
  // Blocking; returns within about the check's timeout (plus the time to kill and reap an exec
  // check's children); never throws. Every failure of the probed thing is ok=false + detail.
  virtual CheckResult run() = 0;
};

// Builds the check a [check.NAME] section describes. Throws std::runtime_error only for a
// set-up problem that no later run could fix (an exec check's unknown `user`); the message
// names the check. Call it from the main thread: a docker or http check initialises libcurl
// (once per process).
std::unique_ptr<Check> make_check(const config::CheckConfig& cfg);

// `text` as one line of valid UTF-8 of at most `max_bytes` bytes (plus "..." when cut):
// control characters become spaces, invalid UTF-8 bytes become '?', ends are trimmed.
std::string one_line(std::string_view text, std::size_t max_bytes);

}  // namespace failoverd::health
