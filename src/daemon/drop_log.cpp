#include "failoverd/daemon/drop_log.h"

namespace failoverd::daemon {

std::optional<std::uint64_t> DropLog::should_log(proto::DropReason reason, Clock::time_point now) {
  Slot& slot = slots_[static_cast<std::size_t>(reason)];
  if (slot.last && now - *slot.last < period_) {
    ++slot.suppressed;
    return std::nullopt;
  }
  slot.last = now;
  const std::uint64_t suppressed = slot.suppressed;
  slot.suppressed = 0;
  return suppressed;
}

}  // namespace failoverd::daemon
