#include "failoverd/health/http_check.h"

#include <cstring>

#include "failoverd/http/easy.h"
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
  http::Easy easy;
};

HttpCheck::HttpCheck(config::HttpCheckSpec spec, std::chrono::microseconds timeout)
    : spec_(std::move(spec)),
      timeout_(timeout),
      shown_url_(redact_url(spec_.url)) {}

HttpCheck::~HttpCheck() = default;

namespace {

std::string describe_error(const http::Error& e, std::chrono::microseconds timeout) {
  switch (e.kind) {
    case http::ErrorKind::kResolve:
      return e.message;  // "Could not resolve host: name.example"
    case http::ErrorKind::kConnect:
      if (e.os_errno != 0) return std::string("cannot connect: ") + std::strerror(e.os_errno);
      return "cannot connect: " + e.message;
    case http::ErrorKind::kTimeout:
      if (e.message.find("Resolving") != std::string::npos) {
        return "could not resolve the host within " + util::format_duration(timeout);
      }
      return "no answer within " + util::format_duration(timeout);
    case http::ErrorKind::kTls:
    case http::ErrorKind::kTlsVerify:
      return "TLS: " + e.message;
    case http::ErrorKind::kUnsupportedUrl:
      return "unsupported URL scheme (http and https only)";
    default:
      return e.message;
  }
}

}  // namespace

CheckResult HttpCheck::run() {
  const auto start = std::chrono::steady_clock::now();
  http::Request req;
  req.url = spec_.url;
  req.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout_);
  req.max_body = spec_.expect_body ? kHttpMaxBody : 0;  // the body matters only when searched
  req.truncate_body = true;
  req.tls_verify = spec_.tls_verify;
  req.proxy_from_environment = false;  // a check probes the service itself
  req.user_agent = "failoverd-health";
  // Made on the first run, on the check's worker thread (see DockerCheck::run).
  if (!curl_) {
    auto easy = http::Easy::open();
    if (!easy) {
      return {false, "cannot use libcurl: " + easy.error().message,
              std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - start)};
    }
    curl_ = std::make_unique<Curl>(Curl{std::move(*easy)});
  }
  auto got = curl_->easy.perform(req);

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
