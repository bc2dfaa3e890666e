// The http client's pure helpers for what a server or a configured URL says
// (src/cloud/http_client.cpp): the wait a 429 asks for (Retry-After, ratelimit-reset) and
// the redaction of URLs and secrets before they reach a log.
//
// Input: 8 bytes of wall clock (seconds, taken modulo 2^33 (272 years)), 4 bytes of cap (ms),
// then lines: "NAME: VALUE" response headers; a line "@URL" is a URL to redact, a line
// "!SECRET" a token to scrub from the rest of the input.
//
// Contract: never throws. server_retry_delay is nullopt or within 0..cap; with neither header
// it is nullopt. redact_url keeps no query, fragment or user info. scrub leaves no
// occurrence of a secret that shares no character with its "[REDACTED]" mark.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <string>

#include "cloud_support.h"
#include "failoverd/cloud/http_client.h"

namespace cloud = failoverd::cloud;

namespace {

std::uint64_t take(std::string_view& in, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n && !in.empty(); ++i) {
    v = (v << 8) | static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
  }
  return v;
}

void run(std::string_view in) {
  const auto secs = static_cast<std::int64_t>(take(in, 8) % (1ull << 33));  // system_clock counts ns: < 2^33 s fits
  const cloud::Millis cap(static_cast<std::int64_t>(take(in, 4)));
  const std::chrono::system_clock::time_point now{std::chrono::seconds(secs)};

  cloud::HttpResponse response;
  response.status = 429;
  bool retry_headers = false;
  std::string secret;
  for (const auto& line : fuzz::lines(in)) {
    if (!line.empty() && line[0] == '@') {
      const std::string out = cloud::redact_url(std::string_view(line).substr(1));
      FUZZ_CHECK(out.find_first_of("?#") == std::string::npos, out);
      if (const auto scheme = out.find("://"); scheme != std::string::npos) {
        const auto authority = out.substr(scheme + 3, out.find('/', scheme + 3) - (scheme + 3));
        FUZZ_CHECK(authority.find('@') == std::string::npos, out);
      }
      continue;
    }
    if (!line.empty() && line[0] == '!') {
      secret = line.substr(1);
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    if (name == "retry-after" || name == "ratelimit-reset") retry_headers = true;
    response.headers.emplace_back(std::move(name), std::move(value));
  }
  const auto wait = cloud::server_retry_delay(response, now, cap);
  if (wait) {
    FUZZ_CHECK(wait->count() >= 0, std::to_string(wait->count()));
    FUZZ_CHECK(*wait <= std::max(cap, cloud::Millis(0)),
               std::to_string(wait->count()) + " > cap " + std::to_string(cap.count()));
  }
  FUZZ_CHECK(retry_headers || !wait, "a wait without Retry-After or ratelimit-reset");

  if (!secret.empty() && secret.find_first_of("[REDACT]") == std::string::npos) {
    const std::string out = cloud::scrub(std::string(in), secret);
    FUZZ_CHECK(out.find(secret) == std::string::npos, secret);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FUZZ_GUARD(run(fuzz::as_text(data, size)));
  return 0;
}
