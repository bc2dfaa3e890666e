// One HTTP client for every cloud provider: a blocking request with connect and total
// timeouts, retries with exponential backoff and full jitter, typed errors, redacted logs.
//
// Retried: timeouts, transport errors (refused, reset, dropped), 5xx and 429. A 429 waits what
// the server asks: Retry-After (seconds or HTTP date), else what the API's RateLimit-Reset means
// (RateLimitReset: DigitalOcean's is when one request is allowed again, Hetzner's when its bucket
// is full again, so Hetzner waits one refill instead), capped. A RateLimit-Reset wait that would
// pass the deadline falls back to the ordinary backoff (the request is still retried); an
// explicit Retry-After that would is given up at once. Never retried: other 4xx (the request
// itself is wrong), a malformed URL, an over-long body. All attempts and waits fit in one total
// deadline.
//
// Secrets: the bearer token goes only into the Authorization header. Log lines and error texts
// carry the method and a redacted URL (no query, fragment or user info), never a header, and
// any accidental echo of the token in a server message is scrubbed.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "failoverd/util/expected.h"

namespace failoverd::http {
class Easy;
}

namespace failoverd::cloud {

using Millis = std::chrono::milliseconds;

// The clock and sleep behind the retry loop, so tests run backoffs without sleeping.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point now() = 0;
  // Wall time, for ratelimit-reset (an epoch) and Retry-After dates.
  virtual std::chrono::system_clock::time_point wall_now() = 0;
  virtual void sleep_for(Millis d) = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() override;
  std::chrono::system_clock::time_point wall_now() override;
  void sleep_for(Millis d) override;
};

// A process-wide SystemClock (stateless, safe from any thread).
Clock& system_clock();

using Header = std::pair<std::string, std::string>;  // as http::Header

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<Header> headers;  // e.g. {"Content-Type", "application/json"}
  std::string body;
  // Sent as "Authorization: Bearer <token>"; never logged, scrubbed from every message.
  std::string bearer_token;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::vector<Header> headers;  // names lower-cased, in arrival order
  int attempts = 0;             // attempts it took, >= 1
  Millis elapsed{0};            // all attempts and waits

  // The last value of a header (name case-insensitive), if present.
  std::optional<std::string> header(std::string_view name) const;
};

enum class HttpErrorKind : std::uint8_t {
  kTimeout,     // connect or total timeout of the last attempt, or the deadline ran out
  kTransport,   // refused, reset, dropped, DNS, TLS, body too large, malformed URL
  kHttpStatus,  // the server answered with a status >= 300 (a redirect is not followed)
};
const char* to_string(HttpErrorKind k);  // "timeout", "transport", "http status"

struct HttpError {
  HttpErrorKind kind = HttpErrorKind::kTransport;
  long status = 0;          // kHttpStatus only
  // The API's own error, from the body (see parse_api_error): DigitalOcean's "id"
  // ("unauthorized"), Hetzner's error.code ("locked"), Cloudflare's errors[0].code ("9109").
  std::string api_id;
  std::string api_message;  // the API's error message(s), one line, token-scrubbed
  std::string request_id;   // DigitalOcean's "request_id", for support tickets
  std::string detail;       // transport/timeout reason (curl's text), token-scrubbed
  std::string request;      // "POST https://api.example/v2/x" (redacted)
  int attempts = 0;
  Millis elapsed{0};

  // "POST https://api.example/v2/x: HTTP 422 unprocessable_entity: The reserved IP already has
  // a pending event. (after 1 attempt)"; never contains a header or the token.
  std::string to_string() const;
};

using HttpResult = util::Expected<HttpResponse, HttpError>;

// What a 429's RateLimit-Reset (a Unix epoch) means; the APIs differ.
enum class RateLimitReset : std::uint8_t {
  // DigitalOcean (spec: specification/shared/headers, ratelimit-reset): "the time when the oldest request will
  // expire", i.e. when one more request is allowed. Wait until then.
  kNextRequestAllowed,
  // Hetzner (rate limiting): when "you will have the full number of requests available again";
  // the quota refills gradually (RateLimit-Limit per hour, 1/s for the default 3600), so the
  // reset can be an hour away while a request one refill later succeeds. Wait one refill
  // (3600 s / RateLimit-Limit); a 429 that still reports RateLimit-Remaining > 0 takes the
  // ordinary backoff.
  kFullRefill,
};

struct RetryPolicy {
  int max_attempts = 5;            // including the first; >= 1
  Millis base_delay{200};          // backoff before attempt n+1: U(0, base * 2^(n-1)) ...
  Millis max_delay{5000};          // ... capped here (full jitter)
  Millis max_server_delay{30000};  // cap on Retry-After / ratelimit-reset waits
  Millis deadline{30000};          // all attempts and waits of one request()
  RateLimitReset rate_limit_reset = RateLimitReset::kNextRequestAllowed;
};

struct HttpClientOptions {
  Millis connect_timeout{3000};
  Millis request_timeout{10000};  // one attempt, connect included
  std::size_t max_body_bytes = 1024 * 1024;
  RetryPolicy retry;
  std::string user_agent = "failoverd";
  // Gets one line per attempt: method, redacted URL, attempt n/max, outcome, latency and the
  // wait before the next attempt. Called on the requesting thread.
  std::function<void(const std::string&)> log;
  // Uniform in [0, 1): the jitter source. Unset: a per-client seeded PRNG.
  std::function<double()> random;
};

// The HTTP seam of the providers. Blocking; an instance is used by one thread at a time.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual HttpResult request(const HttpRequest& req) = 0;
};

// HttpClient over one http::Easy handle (kept between requests so connections are reused).
// Redirects are not followed (the token must not travel to another host); only http and https.
class CurlHttpClient final : public HttpClient {
 public:
  // `clock` must outlive the client.
  explicit CurlHttpClient(HttpClientOptions options, Clock& clock = system_clock());
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  HttpResult request(const HttpRequest& req) override;

  const HttpClientOptions& options() const { return options_; }

 private:
  HttpClientOptions options_;
  Clock& clock_;
  std::unique_ptr<http::Easy> easy_;
  std::function<double()> random_;
};

// ---- pure helpers (exposed for tests) ----

// scheme://host[:port]/path with user info, query and fragment removed. Garbage in gives a
// best-effort prefix, never the query.
std::string redact_url(std::string_view url);

// Replaces every occurrence of `secret` (when non-empty) in `text` by "[REDACTED]".
std::string scrub(std::string text, std::string_view secret);

// The full-jitter backoff before attempt `next_attempt` (2, 3, ...): random01 * min(max_delay,
// base_delay * 2^(next_attempt - 2)).
Millis backoff_delay(int next_attempt, const RetryPolicy& policy, double random01);

// The wait a 429 response asks for: Retry-After (delta seconds or HTTP date) first, else
// from ratelimit-reset as `reset` says it is meant: kNextRequestAllowed the epoch minus
// `wall_now`; kFullRefill one refill (3600 s / ratelimit-limit, 1 s when absent), none when
// ratelimit-remaining is above 0. nullopt when nothing is usable. Capped at `cap`; never
// negative.
std::optional<Millis> server_retry_delay(
    const HttpResponse& response, std::chrono::system_clock::time_point wall_now, Millis cap,
    RateLimitReset reset = RateLimitReset::kNextRequestAllowed);

// The API error body read into `error.api_id`, `api_message` and `request_id` (left empty when
// the body is none of these shapes). Messages are one line, truncated to a sane length.
//   DigitalOcean  {"id":"unauthorized","message":"...","request_id":"..."}
//   Hetzner       {"error":{"code":"locked","message":"...","details":{}}}
//   Cloudflare    {"success":false,"errors":[{"code":9109,"message":"..."},...],...}
//                 (api_id: the first error's code as text; api_message: all messages, "; ")
void parse_api_error(std::string_view body, HttpError& error);

}  // namespace failoverd::cloud
