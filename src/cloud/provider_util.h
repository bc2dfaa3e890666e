// Small helpers shared by the API providers' implementations (private to src/cloud).
#pragma once

#include <cctype>
#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "failoverd/cloud/http_client.h"
#include "failoverd/cloud/provider.h"
#include "failoverd/config/config.h"
#include "failoverd/util/text.h"
#include "failoverd/util/untrusted_json.h"

namespace failoverd::cloud::detail {

inline std::string strip_trailing_slashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

inline std::string ms_text(Millis d) {
  return std::to_string(d.count()) + "ms";
}

// A JSON number that is a positive integer (ids), else nullopt.
inline std::optional<std::uint64_t> positive_id(const nlohmann::json& j) {
  if (j.is_number_unsigned()) {
    const auto v = j.get<std::uint64_t>();
    if (v > 0) return v;
  } else if (j.is_number_integer()) {
    const auto v = j.get<std::int64_t>();
    if (v > 0) return static_cast<std::uint64_t>(v);
  }
  return std::nullopt;
}

// A plain-text positive decimal number (metadata services), surrounding whitespace allowed.
// `what` names it in errors ("server id").
inline util::Expected<std::uint64_t, std::string> parse_decimal_id(std::string_view body,
                                                                   const std::string& what) {
  body = util::trim(body);
  if (body.empty()) return util::unexpected("empty " + what);
  for (char c : body) {
    if (c < '0' || c > '9') return util::unexpected(what + " is not a number");
  }
  if (body.size() > 19) return util::unexpected(what + " is too long");
  std::uint64_t v = 0;
  for (char c : body) v = v * 10 + static_cast<std::uint64_t>(c - '0');
  if (v == 0) return util::unexpected(what + " is 0");
  return v;
}

// The object at `key` of a JSON body ({"action":{...}} -> {...}); the error is a reason.
inline util::Expected<nlohmann::json, std::string> json_member_object(std::string_view body,
                                                                      const std::string& key) {
  auto parsed = util::parse_untrusted_json(body);
  if (!parsed) return util::unexpected(parsed.error());
  nlohmann::json& j = *parsed;
  if (!j.is_object() || !j.contains(key) || !j[key].is_object()) {
    return util::unexpected("no \"" + key + "\" object");
  }
  return std::move(j[key]);
}

// What every provider's action object has: {"action": {"id": N, "status": "...", ...}}.
struct ActionHead {
  nlohmann::json object;  // the action, for the provider's own members
  std::uint64_t id = 0;
  std::string status;
};
inline util::Expected<ActionHead, std::string> parse_action_head(std::string_view body) {
  auto object = json_member_object(body, "action");
  if (!object) return util::unexpected(object.error());
  ActionHead out;
  out.object = std::move(*object);
  const nlohmann::json& a = out.object;
  const auto id = a.contains("id") ? positive_id(a["id"]) : std::nullopt;
  if (!id) return util::unexpected(std::string("action.id is not a positive integer"));
  out.id = *id;
  if (!a.contains("status") || !a["status"].is_string()) {
    return util::unexpected(std::string("action.status is not a string"));
  }
  out.status = a["status"].get<std::string>();
  return out;
}

// The common mapping of an HTTP failure to a provider error: 401/403 auth, 404 not found, other
// 4xx (but 408 and 429) rejected, an over-long body a bad response, the rest unavailable.
inline CloudErrorKind kind_of(const HttpError& e) {
  if (e.kind == HttpErrorKind::kHttpStatus) {
    if (e.status == 401 || e.status == 403) return CloudErrorKind::kAuth;
    if (e.status == 404) return CloudErrorKind::kNotFound;
    if (e.status >= 400 && e.status < 500 && e.status != 429 && e.status != 408) {
      return CloudErrorKind::kRejected;
    }
  } else if (e.kind == HttpErrorKind::kTransport && e.detail.starts_with("response body larger")) {
    return CloudErrorKind::kBadResponse;
  }
  return CloudErrorKind::kUnavailable;
}

// A provider error for a failed HTTP exchange: `what` and the failure, the token scrubbed.
inline CloudError http_failure(CloudErrorKind kind, const std::string& what, const HttpError& e,
                               std::string_view token) {
  return CloudError{kind, scrub(what + ": " + e.to_string(), token), e};
}
inline CloudError http_failure(const std::string& what, const HttpError& e,
                               std::string_view token) {
  return http_failure(kind_of(e), what, e, token);
}

// A 2xx answer whose body is not what the API documents; `reason` is the parser's.
inline CloudError bad_response(const std::string& what, const std::string& reason,
                               std::string_view token) {
  return CloudError{CloudErrorKind::kBadResponse, scrub(what + ": " + reason, token),
                    std::nullopt};
}

// This node's id from a metadata service at `url`: plain text, asked without the token (the
// service is link-local and needs none). `what` names it in errors ("droplet id").
inline CloudResult<std::uint64_t> metadata_id(HttpClient& http, const std::string& url,
                                              const std::string& what, std::string_view token) {
  HttpRequest r;
  r.url = url;
  auto res = http.request(r);
  if (!res) {
    return util::unexpected(http_failure(what + " from the metadata service", res.error(), token));
  }
  auto id = parse_decimal_id(res->body, what);
  if (!id) {
    return util::unexpected(bad_response(what + " from " + redact_url(url), id.error(), token));
  }
  return *id;
}

// "a request" / "2 requests"
inline std::string plural(int n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

// A JSON API request with the bearer token, as all three API providers send them.
inline HttpRequest json_api_request(const std::string& api_url, const std::string& token,
                                    std::string method, const std::string& path,
                                    std::string body) {
  HttpRequest r;
  r.method = std::move(method);
  r.url = api_url + path;
  r.bearer_token = token;
  r.headers.emplace_back("Accept", "application/json");
  if (!body.empty()) {
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = std::move(body);
  }
  return r;
}

// An unusable [reserved_ip] section (kConfig).
inline auto config_error(std::string message) {
  return util::unexpected(CloudError{CloudErrorKind::kConfig, std::move(message), std::nullopt});
}

// The API token of a [reserved_ip] section: token_file set and readable as a secret. The error
// (kConfig) names the file, never its content.
inline CloudResult<std::string> read_api_token(const config::ReservedIpConfig& cfg) {
  if (cfg.token_file.empty()) return config_error("[reserved_ip] token_file is not set");
  auto token = config::read_secret_file(cfg.token_file);
  if (!token) return config_error("[reserved_ip] token_file: " + token.error());
  return std::move(*token);
}

// The options of an API provider's [reserved_ip] section, as far as all three fill them alike:
// checked that the section is `provider`'s ("[reserved_ip] provider is not <name>") and has an
// address, then `check` (the provider's own required keys: an error message or nullopt), then
// the token read; api_url (when set), address and token copied. The rest is the caller's.
template <typename Options>
CloudResult<Options> api_options(
    const config::ReservedIpConfig& cfg, config::Provider provider, const std::string& name,
    const std::function<std::optional<std::string>(const config::ReservedIpConfig&)>& check =
        {}) {
  if (cfg.provider != provider) return config_error("[reserved_ip] provider is not " + name);
  if (!cfg.address) return config_error("[reserved_ip] address is not set");
  if (check) {
    if (auto problem = check(cfg)) return config_error(std::move(*problem));
  }
  auto token = read_api_token(cfg);
  if (!token) return util::unexpected(token.error());
  Options o;
  if (!cfg.api_url.empty()) o.api_url = cfg.api_url;
  o.address = *cfg.address;
  o.token = std::move(*token);
  return o;
}

// The bookkeeping every provider's claim() shares: its start and deadline, the report with
// its latency and a token-free detail ("floating IP 1.2.3.4: ..."), one log line per outcome,
// and waits that stop at the deadline.
class ClaimRun {
 public:
  ClaimRun(Clock& clock, Millis claim_deadline, std::string subject, std::string_view token,
           std::function<void(const std::string&)> log)
      : clock_(clock),
        start_(clock.now()),
        deadline_(start_ + claim_deadline),
        subject_(std::move(subject)),
        token_(token),
        log_(std::move(log)) {}

  // A claim without a deadline of its own (each request still has the HTTP client's).
  ClaimRun(Clock& clock, std::string subject, std::string_view token,
           std::function<void(const std::string&)> log)
      : ClaimRun(clock, Millis(0), std::move(subject), token, std::move(log)) {
    deadline_ = std::chrono::steady_clock::time_point::max();
  }

  ClaimReport finish(ClaimOutcome outcome, std::string detail,
                     std::optional<CloudError> error = std::nullopt) {
    report.outcome = outcome;
    report.latency = std::chrono::duration_cast<Millis>(clock_.now() - start_);
    report.detail = scrub(subject_ + ": " + detail, token_);
    if (error) error->message = scrub(error->message, token_);
    report.error = std::move(error);
    if (log_) {
      log_("claim " + std::string(to_string(outcome)) + " in " + ms_text(report.latency) + ": " +
           report.detail);
    }
    return report;
  }
  ClaimReport fail(CloudError e) {
    std::string message = e.message;
    return finish(ClaimOutcome::kFailed, std::move(message), std::move(e));
  }
  // Sleeps `wait` unless that would pass the deadline; false then.
  bool wait_or_deadline(Millis wait) {
    if (clock_.now() + wait > deadline_) return false;
    clock_.sleep_for(wait);
    return true;
  }

  std::chrono::steady_clock::time_point deadline() const { return deadline_; }

  ClaimReport report;

 private:
  Clock& clock_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point deadline_;
  std::string subject_;
  std::string_view token_;
  std::function<void(const std::string&)> log_;
};

}  // namespace failoverd::cloud::detail
