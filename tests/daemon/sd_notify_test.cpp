// Reading systemd's watchdog request from the environment's values (sd_watchdog_enabled(3)).
#include <gtest/gtest.h>

#include "failoverd/daemon/sd_notify.h"

namespace failoverd::daemon {
namespace {

using std::chrono::microseconds;

TEST(WatchdogInterval, AbsentMeansNone) {
  EXPECT_FALSE(watchdog_interval(nullptr, nullptr, 42));
}

TEST(WatchdogInterval, ForUsWhenPidUnsetOrOurs) {
  EXPECT_EQ(watchdog_interval("10000000", nullptr, 42), microseconds(10'000'000));
  EXPECT_EQ(watchdog_interval("500000", "42", 42), microseconds(500'000));
}

TEST(WatchdogInterval, InheritedFromAnotherProcessIsIgnored) {
  EXPECT_FALSE(watchdog_interval("500000", "41", 42));
}

TEST(WatchdogInterval, MalformedValuesAreIgnored) {
  for (const char* bad : {"", "0", "-5", "10s", " 10", "1e6", "99999999999999999999999"}) {
    EXPECT_FALSE(watchdog_interval(bad, nullptr, 42)) << bad;
  }
  for (const char* bad : {"", "x", "-42", "42 "}) {
    EXPECT_FALSE(watchdog_interval("500000", bad, 42)) << bad;
  }
  EXPECT_FALSE(watchdog_interval("86400000001", nullptr, 42));  // over a day
}

}  // namespace
}  // namespace failoverd::daemon
