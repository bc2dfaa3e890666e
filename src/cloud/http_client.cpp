#include "failoverd/cloud/http_client.h"

#include <strings.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <thread>

#include "failoverd/http/easy.h"
#include "failoverd/http/http_date.h"
#include "failoverd/util/text.h"
#include "failoverd/util/untrusted_json.h"

namespace failoverd::cloud {

namespace {

constexpr std::size_t kMaxApiMessage = 300;

// Whole string of decimal digits (at most 18, so it fits an int64), else nullopt.
std::optional<std::int64_t> parse_digits(std::string_view s) {
  s = util::trim(s);
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string ms_text(Millis d) {
  return std::to_string(d.count()) + "ms";
}

}  // namespace

// ---- clock ----

std::chrono::steady_clock::time_point SystemClock::now() {
  return std::chrono::steady_clock::now();
}
std::chrono::system_clock::time_point SystemClock::wall_now() {
  return std::chrono::system_clock::now();
}
void SystemClock::sleep_for(Millis d) {
  if (d.count() > 0) std::this_thread::sleep_for(d);
}

Clock& system_clock() {
  static SystemClock clock;
  return clock;
}

// ---- value types ----

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  const std::string key = util::lower(name);
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
    if (it->first == key) return it->second;
  }
  return std::nullopt;
}

const char* to_string(HttpErrorKind k) {
  switch (k) {
    case HttpErrorKind::kTimeout:
      return "timeout";
    case HttpErrorKind::kTransport:
      return "transport";
    case HttpErrorKind::kHttpStatus:
      return "http status";
  }
  return "?";
}

std::string HttpError::to_string() const {
  std::string out = request.empty() ? std::string() : request + ": ";
  switch (kind) {
    case HttpErrorKind::kHttpStatus:
      out += "HTTP " + std::to_string(status);
      if (!api_id.empty()) out += " " + api_id;
      if (!api_message.empty()) out += ": " + api_message;
      break;
    case HttpErrorKind::kTimeout:
      out += "timeout";
      if (!detail.empty()) out += ": " + detail;
      break;
    case HttpErrorKind::kTransport:
      out += "transport error";
      if (!detail.empty()) out += ": " + detail;
      break;
  }
  out += " (after " + std::to_string(attempts) + (attempts == 1 ? " attempt)" : " attempts)");
  return out;
}

// ---- pure helpers ----

std::string redact_url(std::string_view url) {
  // Cut the query and the fragment first: they may hold tokens ("?token=...").
  const std::size_t cut = url.find_first_of("?#");
  if (cut != std::string_view::npos) url = url.substr(0, cut);
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const std::size_t authority_begin = scheme_end + 3;
  std::size_t authority_end = url.find('/', authority_begin);
  if (authority_end == std::string_view::npos) authority_end = url.size();
  std::string_view authority = url.substr(authority_begin, authority_end - authority_begin);
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);  // user:password@
  std::string out(url.substr(0, authority_begin));
  out += authority;
  out += url.substr(authority_end);
  return out;
}

std::string scrub(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  static constexpr std::string_view kMark = "[REDACTED]";
  for (std::size_t pos = text.find(secret); pos != std::string::npos;
       pos = text.find(secret, pos + kMark.size())) {
    text.replace(pos, secret.size(), kMark);
  }
  return text;
}

Millis backoff_delay(int next_attempt, const RetryPolicy& policy, double random01) {
  const int exponent = std::clamp(next_attempt - 2, 0, 30);
  const auto base = std::max<std::int64_t>(policy.base_delay.count(), 0);
  const auto cap = std::max<std::int64_t>(policy.max_delay.count(), 0);
  std::int64_t ceiling = base;
  for (int i = 0; i < exponent && ceiling < cap; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, cap);
  const double r = std::clamp(random01, 0.0, 1.0);
  return Millis(static_cast<std::int64_t>(r * static_cast<double>(ceiling)));
}

std::optional<Millis> server_retry_delay(const HttpResponse& response,
                                         std::chrono::system_clock::time_point wall_now,
                                         Millis cap, RateLimitReset reset_meaning) {
  using std::chrono::seconds;
  // Whole seconds from the server, clamped to the cap before converting: a header such as
  // `ratelimit-reset: 999999999999999999` must not overflow the multiplication.
  const std::int64_t cap_secs = std::max<std::int64_t>(cap.count(), 0) / 1000 + 1;
  const auto from_secs = [cap_secs](std::int64_t secs) {
    return Millis(std::clamp<std::int64_t>(secs, 0, cap_secs) * 1000);
  };
  std::optional<Millis> wait;
  const std::int64_t now_epoch =
      std::chrono::duration_cast<seconds>(wall_now.time_since_epoch()).count();
  if (auto ra = response.header("retry-after")) {
    if (auto secs = parse_digits(*ra)) {
      wait = from_secs(*secs);
    } else {
      if (auto when = http::parse_http_date(util::trim(*ra))) wait = from_secs(*when - now_epoch);
    }
  }
  if (!wait && reset_meaning == RateLimitReset::kFullRefill) {
    // Hetzner's reset is the time of a *full* bucket; one request comes back every
    // 3600 s / limit. A 429 that still says requests remain has no useful wait of its own.
    const auto remaining = response.header("ratelimit-remaining");
    const auto left = remaining ? parse_digits(*remaining) : std::nullopt;
    if (left && *left > 0) return std::nullopt;
    const auto limit_text = response.header("ratelimit-limit");
    auto limit = limit_text ? parse_digits(*limit_text) : std::nullopt;
    if (!limit || *limit <= 0) limit = 3600;
    const std::int64_t refill_ms = std::max<std::int64_t>((3600000 + *limit - 1) / *limit, 1000);
    return std::min(Millis(refill_ms), std::max(cap, Millis(0)));
  }
  if (!wait) {
    if (auto reset = response.header("ratelimit-reset")) {
      if (auto epoch = parse_digits(*reset)) wait = from_secs(*epoch - now_epoch);
    }
  }
  if (!wait) return std::nullopt;
  return std::clamp(*wait, Millis(0), std::max(cap, Millis(0)));
}

namespace {

// One line of at most kMaxApiMessage characters, whatever the server sends.
std::string one_line(std::string s) {
  if (s.size() > kMaxApiMessage) s = s.substr(0, kMaxApiMessage) + "...";
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return s;
}

std::string string_at(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return one_line(it->get<std::string>());
}

// An error code that may be a string ("locked") or a number (9109), as text.
std::string code_at(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  if (it == j.end()) return {};
  if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
  if (it->is_string()) return one_line(it->get<std::string>());
  return {};
}

}  // namespace

void parse_api_error(std::string_view body, HttpError& error) {
  const auto parsed = util::parse_untrusted_json(body);
  if (!parsed || !parsed->is_object()) return;
  const nlohmann::json& j = *parsed;
  // Hetzner Cloud: {"error":{"code":"locked","message":"...","details":{...}}}
  if (auto it = j.find("error"); it != j.end() && it->is_object()) {
    error.api_id = code_at(*it, "code");
    error.api_message = string_at(*it, "message");
    return;
  }
  // Cloudflare: {"success":false,"errors":[{"code":9109,"message":"..."}],"messages":[],...}
  if (auto it = j.find("errors"); it != j.end() && it->is_array()) {
    std::string message;
    for (const auto& e : *it) {
      if (!e.is_object()) continue;
      if (error.api_id.empty()) error.api_id = code_at(e, "code");
      const std::string m = string_at(e, "message");
      if (m.empty()) continue;
      message += (message.empty() ? "" : "; ") + m;
    }
    error.api_message = one_line(std::move(message));
    return;
  }
  // DigitalOcean: {"id":"unauthorized","message":"...","request_id":"..."}
  error.api_id = string_at(j, "id");
  error.api_message = string_at(j, "message");
  error.request_id = string_at(j, "request_id");
}

// ---- the libcurl client ----

CurlHttpClient::CurlHttpClient(HttpClientOptions options, Clock& clock)
    : options_(std::move(options)), clock_(clock) {
  auto easy = http::Easy::open();
  if (!easy) throw std::runtime_error("cannot use libcurl: " + easy.error().message);
  easy_ = std::make_unique<http::Easy>(std::move(*easy));
  if (options_.random) {
    random_ = options_.random;
  } else {
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    random_ = [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
  }
  if (options_.retry.max_attempts < 1) options_.retry.max_attempts = 1;
}

CurlHttpClient::~CurlHttpClient() = default;

HttpResult CurlHttpClient::request(const HttpRequest& req) {
  const RetryPolicy& policy = options_.retry;
  const auto start = clock_.now();
  const auto deadline = start + policy.deadline;
  const std::string what = req.method + " " + redact_url(req.url);
  // Strings that must never leave this function: the token, and the raw query string.
  const std::size_t q = req.url.find_first_of("?#");
  const std::string query = q == std::string::npos ? std::string() : req.url.substr(q);
  auto clean = [&](std::string s) { return scrub(scrub(std::move(s), req.bearer_token), query); };
  auto log = [&](const std::string& line) {
    if (options_.log) options_.log(clean(line));
  };
  auto elapsed = [&] { return std::chrono::duration_cast<Millis>(clock_.now() - start); };

  HttpError error;
  error.request = what;
  for (int attempt = 1;; ++attempt) {
    const std::string prefix = "http " + what + " attempt " + std::to_string(attempt) + "/" +
                               std::to_string(policy.max_attempts) + ": ";
    const auto remaining = std::chrono::duration_cast<Millis>(deadline - clock_.now());
    if (remaining.count() <= 0) {
      // Only reachable when the clock moved past the deadline without us sleeping there.
      if (attempt == 1) {
        error.kind = HttpErrorKind::kTimeout;
        error.detail = "deadline of " + ms_text(policy.deadline) + " exhausted";
      }
      error.attempts = attempt - 1;
      error.elapsed = elapsed();
      return util::unexpected(error);
    }
    http::Request one;
    one.method = req.method;
    one.url = req.url;
    one.headers = req.headers;
    if (!req.bearer_token.empty())
      one.headers.emplace_back("Authorization", "Bearer " + req.bearer_token);
    one.body = req.body;
    one.timeout = std::min(options_.request_timeout, remaining);
    one.connect_timeout = options_.connect_timeout;
    one.max_body = options_.max_body_bytes;
    one.user_agent = options_.user_agent;
    auto a = easy_->perform(one);
    for (auto& [name, value] : one.headers) explicit_bzero(value.data(), value.size());
    const Millis latency = a ? a->latency : a.error().latency;

    bool retryable = false;
    std::optional<Millis> server_wait;
    bool explicit_wait = false;  // the server's wait is a Retry-After, not a rate-limit reset
    std::string outcome;
    HttpResponse response;
    if (a && a->status < 300) {
      log(prefix + std::to_string(a->status) + " in " + ms_text(latency));
      response.status = a->status;
      response.body = std::move(a->body);
      response.headers = std::move(a->headers);
      response.attempts = attempt;
      response.elapsed = elapsed();
      return response;
    }
    error = HttpError{};
    error.request = what;
    if (a) {
      error.kind = HttpErrorKind::kHttpStatus;
      error.status = a->status;
      parse_api_error(a->body, error);
      error.api_message = clean(error.api_message);
      if (a->status >= 300 && a->status < 400) {
        // Redirects are never followed (the token would go wherever Location says); an API
        // that redirects is a wrong api_url or a changed endpoint, and must say so.
        error.api_id = "redirect";
        error.api_message =
            "the API answered with a redirect, which is not followed (check api_url)";
      }
      outcome =
          "HTTP " + std::to_string(a->status) + (error.api_id.empty() ? "" : " " + error.api_id);
      if (!error.api_message.empty()) outcome += " \"" + error.api_message.substr(0, 120) + "\"";
      if (a->status >= 500) retryable = true;
      if (a->status == 429) {
        retryable = true;
        response.headers = std::move(a->headers);
        server_wait = server_retry_delay(response, clock_.wall_now(), policy.max_server_delay,
                                         policy.rate_limit_reset);
        explicit_wait = response.header("retry-after").has_value();
      }
    } else if (a.error().kind == http::ErrorKind::kTimeout) {
      error.kind = HttpErrorKind::kTimeout;
      error.detail = clean(a.error().message);
      outcome = "timeout (" + error.detail + ")";
      retryable = true;
    } else {
      error.kind = HttpErrorKind::kTransport;
      const http::ErrorKind kind = a.error().kind;
      // "response body larger than N bytes" is the wrapper's own text.
      error.detail = clean(a.error().message);
      outcome = "transport error (" + error.detail + ")";
      // Never retried: what the same request would meet again.
      retryable = kind != http::ErrorKind::kBodyTooLarge && kind != http::ErrorKind::kBadRequest &&
                  kind != http::ErrorKind::kUnsupportedUrl && kind != http::ErrorKind::kTlsVerify &&
                  kind != http::ErrorKind::kUnavailable;
    }
    error.attempts = attempt;
    outcome += " in " + ms_text(latency);

    auto give_up = [&](const std::string& why) {
      log(prefix + outcome + "; " + why);
      error.elapsed = elapsed();
      return util::unexpected(error);
    };
    if (!retryable) return give_up("not retried");
    if (attempt >= policy.max_attempts) return give_up("giving up, no attempts left");
    const Millis backoff = backoff_delay(attempt + 1, policy, random_());
    Millis wait = server_wait ? *server_wait : backoff;
    if (server_wait && !explicit_wait && clock_.now() + wait >= deadline &&
        clock_.now() + backoff < deadline) {
      // A rate-limit reset is when the oldest counted request expires (or the quota is full):
      // a later one, or the per-minute burst window, may free a request sooner, so try again
      // within the deadline rather than give up (only Retry-After is a firm "not before").
      log(prefix + outcome + "; the rate-limit reset is " + ms_text(wait) +
          " away, past the deadline");
      wait = backoff;
    }
    if (clock_.now() + wait >= deadline) {
      return give_up("giving up, waiting " + ms_text(wait) + " would pass the deadline of " +
                     ms_text(policy.deadline));
    }
    log(prefix + outcome + "; retry in " + ms_text(wait));
    clock_.sleep_for(wait);
  }
}

}  // namespace failoverd::cloud
