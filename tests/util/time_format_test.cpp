#include "failoverd/util/time_format.h"

#include <gtest/gtest.h>

namespace failoverd::util {
namespace {

// 2026-11-22T19:00:00Z plus 123 ms.
const std::chrono::system_clock::time_point kT =
    std::chrono::system_clock::time_point(std::chrono::seconds(1795374000)) +
    std::chrono::milliseconds(123);

TEST(Iso8601, SecondsByDefault) { EXPECT_EQ(iso8601(kT), "2026-11-22T19:00:00Z"); }

TEST(Iso8601, MillisecondsWhenAsked) {
  EXPECT_EQ(iso8601(kT, true), "2026-11-22T19:00:00.123Z");
  EXPECT_EQ(iso8601(kT - std::chrono::milliseconds(123), true), "2026-11-22T19:00:00.000Z");
}

}  // namespace
}  // namespace failoverd::util
