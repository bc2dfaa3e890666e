#include "failoverd/http/http_date.h"

#include <curl/curl.h>

#include <string>

namespace failoverd::http {

std::optional<std::int64_t> parse_http_date(std::string_view text) {
  const std::string copy(text);  // curl_getdate wants a terminated string
  const time_t when = curl_getdate(copy.c_str(), nullptr);
  if (when <= 0) return std::nullopt;
  return static_cast<std::int64_t>(when);
}

}  // namespace failoverd::http
