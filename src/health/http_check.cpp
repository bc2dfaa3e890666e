#include "failoverd/health/http_check.h"

#include <cstring>

#include "curl_get.h"
#include "failoverd/util/duration.h"

namespace failoverd::health {

std::string redact_url(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const auto authority = scheme + 3;
  const auto end = url.find_first_of("/?#", authority);
  const auto at = url.substr(0, end).rfind('@');
  if (at == std::string_view::npos || at < authority) return std::string(url);
  return std::string(url.substr(0, authority)) + std::string(url.substr(at + 1));
}

struct HttpCheck::Curl {
  detail::CurlEasy easy;
};

HttpCheck::HttpCheck(config::HttpCheckSpec spec, std::chrono::microseconds timeout)
    : spec_(std::move(spec)),
      timeout_(timeout),
      shown_url_(redact_url(spec_.url)) {}

HttpCheck::~HttpCheck() = default;

namespace {

std::string describe_error(const detail::GetError& e, std::chrono::microseconds timeout) {
  switch (e.code) {
    case CURLE_COULDNT_RESOLVE_HOST:
      return e.message;  // "Could not resolve host: name.example"
    case CURLE_COULDNT_CONNECT:
      if (e.os_errno != 0) return std::string("cannot connect: ") + std::strerror(e.os_errno);
      return "cannot connect: " + e.message;
    case CURLE_OPERATION_TIMEDOUT:
      if (e.message.find("Resolving") != std::string::npos) {
        return "could not resolve the host within " + util::format_duration(timeout);
      }
      return "no answer within " + util::format_duration(timeout);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
      return "TLS: " + e.message;
    case CURLE_UNSUPPORTED_PROTOCOL:
      return "unsupported URL scheme (http and https only)";
    default:
      return e.message;
  }
}

}  // namespace

CheckResult HttpCheck::run() {
  const auto start = std::chrono::steady_clock::now();
  detail::GetRequest req;
  req.url = spec_.url;
  req.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout_);
  req.max_body = spec_.expect_body ? kHttpMaxBody : 0;  // the body matters only when searched
  req.tls_verify = spec_.tls_verify;
  // Made on the first run, on the check's worker thread (see DockerCheck::run).
  if (!curl_) {
    try {
      curl_ = std::make_unique<Curl>();
    } catch (const std::exception& e) {
      return {false, std::string("cannot use libcurl: ") + e.what(),
              std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - start)};
    }
  }
  auto got = curl_->easy.get(req);

  CheckResult r;
  if (!got) {
    r.detail = "GET " + shown_url_ + ": " + describe_error(got.error(), timeout_);
  } else if (got->status != spec_.expect_status) {
    r.detail = "GET " + shown_url_ + ": HTTP " + std::to_string(got->status) + ", expected " +
               std::to_string(spec_.expect_status);
  } else if (spec_.expect_body && got->body.find(*spec_.expect_body) == std::string::npos) {
    r.detail = "GET " + shown_url_ + ": HTTP " + std::to_string(got->status) +
               ", body does not contain \"" + *spec_.expect_body + "\"" +
               (got->truncated ? " (first 1 MiB searched)" : "");
  } else {
    r.ok = true;
    r.detail = "GET " + shown_url_ + ": HTTP " + std::to_string(got->status);
  }
  r.detail = one_line(r.detail, 400);
  r.duration = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  return r;
}

}  // namespace failoverd::health
