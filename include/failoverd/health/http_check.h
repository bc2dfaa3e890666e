// The http check: GET a URL; healthy when the status is the expected one and, if configured,
// the body contains a substring.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "failoverd/config/config.h"
#include "failoverd/health/check.h"

namespace failoverd::health {

// Only this much of the body is read (and searched for expect_body); the rest is not fetched.
inline constexpr std::size_t kHttpMaxBody = 1024 * 1024;

// "http://user:secret@host/x" -> "http://host/x": URLs in details and logs carry no credentials.
std::string redact_url(std::string_view url);

// Redirects are not followed (the first answer's status counts); proxies from the environment
// are not used; TLS peer and host verification follow spec.tls_verify; only http and https.
class HttpCheck final : public Check {
 public:
  HttpCheck(config::HttpCheckSpec spec, std::chrono::microseconds timeout);
  ~HttpCheck() override;
  HttpCheck(const HttpCheck&) = delete;
  HttpCheck& operator=(const HttpCheck&) = delete;

  CheckResult run() override;

 private:
  struct Curl;
  config::HttpCheckSpec spec_;
  std::chrono::microseconds timeout_;
  std::string shown_url_;  // redacted, for details
  std::unique_ptr<Curl> curl_;
};

}  // namespace failoverd::health
