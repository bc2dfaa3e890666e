// The nesting depth of a JSON text, counted without parsing it. nlohmann-json copies and
// dumps values recursively: a hostile document of 100,000 nested arrays fits in a small
// request and needs megabytes of stack once parsed. Every parser of untrusted JSON asks this
// first and refuses a deeper document with a clear error.
#pragma once

#include <cstddef>
#include <string_view>

namespace failoverd::util {

// Deep enough for every document failoverd reads (API bodies nest about 5 levels).
inline constexpr std::size_t kMaxJsonDepth = 64;

// True when brackets ('[' and '{' outside strings) nest deeper than `limit` anywhere in
// `text`. Linear, stops at the first excess; malformed text is left for the parser to reject.
bool json_nesting_exceeds(std::string_view text, std::size_t limit = kMaxJsonDepth);

}  // namespace failoverd::util
