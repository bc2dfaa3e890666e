// One HTTP exchange over a libcurl easy handle: the only HTTP client code in failoverd, used by
// the docker and http checks and by cloud::CurlHttpClient (which adds retries, backoff, 429
// handling and redaction on top).
//
// Every exchange: no signals (CURLOPT_NOSIGNAL), no redirects followed, http and https only,
// no "Expect: 100-continue" round trip, a total and a connect timeout, a cap on the body and
// on the headers. Failures are values: an Error with its kind, never an exception.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "failoverd/util/expected.h"

namespace failoverd::http {

using Millis = std::chrono::milliseconds;
using Header = std::pair<std::string, std::string>;

// Loads libcurl (failoverd/http/libcurl.h) and runs curl_global_init, once per process; safe
// from any thread. Empty when libcurl is usable, else why not. Easy::open calls it.
std::string init();

inline constexpr std::size_t kMaxHeaderBytes = 64 * 1024;  // all header lines of one exchange

struct Request {
  std::string method = "GET";   // GET, HEAD: no body; POST: `body`; others: `body` if any
  std::string url;              // http:// or https://
  std::string unix_socket;      // non-empty: connect to this socket, not the URL's host (Docker)
  std::vector<Header> headers;  // {"Content-Type", "application/json"}
  std::string body;
  Millis timeout{1000};       // the whole exchange, name resolution included (at least 1 ms)
  Millis connect_timeout{0};  // 0, or more than timeout: timeout
  std::size_t max_body = 1024 * 1024;
  // A longer body: false, an error (kBodyTooLarge); true, its first max_body bytes and
  // Response::truncated (for a check that only searches it).
  bool truncate_body = false;
  bool tls_verify = true;
  bool proxy_from_environment = true;  // false: no proxy whatever http_proxy etc. say
  std::string user_agent = "failoverd";
};

struct Response {
  long status = 0;
  std::string body;
  bool truncated = false;       // only with Request::truncate_body
  std::vector<Header> headers;  // of the final response: names lower-cased, values trimmed
  Millis latency{0};            // the whole exchange, as libcurl timed it

  // The last value of a header (name case-insensitive), if present.
  std::optional<std::string> header(std::string_view name) const;
};

enum class ErrorKind : std::uint8_t {
  kUnavailable,      // libcurl could not be loaded or initialised
  kTimeout,          // Request::timeout or connect_timeout passed
  kResolve,          // the host name did not resolve
  kConnect,          // refused, unreachable, no such socket (Error::os_errno says which)
  kTls,              // the TLS handshake or the local CA or certificate files failed
  kTlsVerify,        // the server's certificate or name did not verify
  kUnsupportedUrl,   // a scheme other than http or https
  kBadRequest,       // a malformed URL or option
  kClosed,           // the server closed or reset the connection mid-response
  kBodyTooLarge,     // the body was longer than Request::max_body
  kHeadersTooLarge,  // the header lines were longer than kMaxHeaderBytes
  kOther,
};

struct Error {
  ErrorKind kind = ErrorKind::kOther;
  int os_errno = 0;     // why a connect failed, when the system said
  std::string message;  // libcurl's own text ("Failed to connect to 127.0.0.1 port 1 ...")
  Millis latency{0};
};

using Result = util::Expected<Response, Error>;

// One easy handle, kept between exchanges so connections are reused; used by one thread at a
// time. Each perform() starts from libcurl's defaults (curl_easy_reset) and sets every option
// it needs, so nothing leaks from one request into the next.
class Easy {
 public:
  static util::Expected<Easy, Error> open();  // kUnavailable when libcurl is not usable
  ~Easy();
  Easy(Easy&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Easy& operator=(Easy&& other) noexcept;
  Easy(const Easy&) = delete;
  Easy& operator=(const Easy&) = delete;

  Result perform(const Request& request);

 private:
  explicit Easy(void* handle) : handle_(handle) {}
  void* handle_;  // CURL*, owned
};

}  // namespace failoverd::http
