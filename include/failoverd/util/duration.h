// Durations with units, as the config file writes them: "100ms", "1s", "2m", "1.5s".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "failoverd/util/expected.h"

namespace failoverd::util {

using Duration = std::chrono::microseconds;

// Accepts a non-negative decimal number followed by one of us, ms, s, m, h. A bare number is
// refused: a unit-less "1" is too easy to misread as seconds or milliseconds.
Expected<Duration, std::string> parse_duration(std::string_view text);

// The shortest exact form: 1s, 100ms, 1500ms, 250us.
std::string format_duration(Duration d);

}  // namespace failoverd::util
