// An HTTP date, as a Retry-After header may carry one.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace failoverd::http {

// "Wed, 21 Oct 2015 07:28:00 GMT" (and the older forms RFC 9110 §5.6.7 accepts), parsed by
// libcurl, as Unix seconds; nullopt for anything that is not a date after 1970.
std::optional<std::int64_t> parse_http_date(std::string_view text);

}  // namespace failoverd::http
