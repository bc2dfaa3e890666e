// Wall-clock times as the status document and the logs write them: ISO-8601 in UTC.
#pragma once

#include <chrono>
#include <string>

namespace failoverd::util {

// "2026-11-22T19:00:00Z", or with `millis` "2026-11-22T19:00:00.123Z".
std::string iso8601(std::chrono::system_clock::time_point t, bool millis = false);

}  // namespace failoverd::util
