// Small text helpers that several modules need for what they parse: one definition each.
#pragma once

#include <string>
#include <string_view>

namespace failoverd::util {

// `s` without leading and trailing blanks (space, tab, CR, LF, VT, FF).
std::string_view trim(std::string_view s);
// ASCII letters lowered; other bytes as they are (header names, keywords: never locale-bound).
std::string lower(std::string_view s);

}  // namespace failoverd::util
