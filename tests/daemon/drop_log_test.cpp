#include "failoverd/daemon/drop_log.h"

#include <gtest/gtest.h>

namespace failoverd::daemon {
namespace {

using namespace std::chrono_literals;
using proto::DropReason;

TEST(DropLog, LogsTheFirstDropAndSuppressesTheRestOfThePeriod) {
  DropLog log(10s);
  const DropLog::Clock::time_point t0{};
  EXPECT_EQ(log.should_log(DropReason::kBadChecksum, t0), 0u);
  EXPECT_EQ(log.should_log(DropReason::kBadChecksum, t0 + 1s), std::nullopt);
  EXPECT_EQ(log.should_log(DropReason::kBadChecksum, t0 + 9s), std::nullopt);
  // The next line after the period reports how many were held back.
  EXPECT_EQ(log.should_log(DropReason::kBadChecksum, t0 + 10s), 2u);
  EXPECT_EQ(log.should_log(DropReason::kBadChecksum, t0 + 21s), 0u);
}

TEST(DropLog, ReasonsAreLimitedIndependently) {
  DropLog log(10s);
  const DropLog::Clock::time_point t0{};
  EXPECT_EQ(log.should_log(DropReason::kBadAuth, t0), 0u);
  EXPECT_EQ(log.should_log(DropReason::kReplay, t0), 0u);
  EXPECT_EQ(log.should_log(DropReason::kBadAuth, t0 + 1s), std::nullopt);
  EXPECT_EQ(log.should_log(DropReason::kUnknownPeer, t0 + 1s), 0u);
}

}  // namespace
}  // namespace failoverd::daemon
