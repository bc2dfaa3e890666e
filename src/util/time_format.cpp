#include "failoverd/util/time_format.h"

#include <cstdio>
#include <ctime>

namespace failoverd::util {

std::string iso8601(std::chrono::system_clock::time_point t, bool millis) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!millis) {
    std::snprintf(buf + n, sizeof buf - n, "Z");
  } else {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  }
  return buf;
}

}  // namespace failoverd::util
