// The metrics server's reading of an HTTP/1.x request head (metrics/metrics_server.h), kept
// apart from the socket code so that it can be unit-tested and fuzzed on plain bytes: what a
// scraper (or anything else that reaches the port) sends is untrusted.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace failoverd::metrics {

// Where the header block ends in `buffer` (just after the first "\r\n\r\n", or "\n\n" from
// lenient clients, whichever ends first), or npos while it is incomplete.
std::size_t end_of_http_head(std::string_view buffer);

struct HttpRequestLine {
  std::string_view method;  // a non-empty RFC 9110 token
  std::string_view path;    // the target up to '?': "/..." or "*"
};

// The first line of `head`, "METHOD SP target SP HTTP/1.x" (a trailing '\r' allowed); nullopt
// for anything else (no control characters, spaces or DEL in the target). The views point
// into `head`.
std::optional<HttpRequestLine> parse_http_request_line(std::string_view head);

}  // namespace failoverd::metrics
