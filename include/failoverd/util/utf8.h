// UTF-8 validation one sequence at a time, for text that came from outside (check output,
// label values) and goes where only valid UTF-8 may go (JSON, Prometheus text).
#pragma once

#include <cstddef>
#include <string_view>

namespace failoverd::util {

// Length of the valid UTF-8 sequence starting at s[i] (1 to 4), or 0 when there is none:
// overlong forms, surrogates and code points above U+10FFFF are invalid, as in Go's
// utf8.ValidString. Requires i < s.size().
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

}  // namespace failoverd::util
