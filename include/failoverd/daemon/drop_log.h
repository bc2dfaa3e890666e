// Rate limit for logging dropped packets: a flood of bad packets must not flood the journal.
// Per reason, at most one line per `period`; the next line says how many were suppressed.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

#include "failoverd/proto/drop_reason.h"

namespace failoverd::daemon {

class DropLog {
 public:
  using Clock = std::chrono::steady_clock;
  explicit DropLog(Clock::duration period = std::chrono::seconds(10)) : period_(period) {}

  // Returns the number of drops of this reason suppressed since the last logged one if this
  // drop should be logged now, nullopt if it should be suppressed.
  std::optional<std::uint64_t> should_log(proto::DropReason reason, Clock::time_point now);

 private:
  struct Slot {
    std::optional<Clock::time_point> last;
    std::uint64_t suppressed = 0;
  };
  Clock::duration period_;
  std::array<Slot, proto::kDropReasonCount> slots_{};
};

}  // namespace failoverd::daemon
