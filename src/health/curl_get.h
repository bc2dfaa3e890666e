// One bounded HTTP GET over libcurl, shared by the docker and http checks (internal).
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <string>

#include "failoverd/util/expected.h"

namespace failoverd::health::detail {

// Calls curl_global_init once; safe to call many times.
void ensure_curl_initialised();

struct GetRequest {
  std::string url;
  std::string unix_socket;  // empty: TCP as the URL says
  std::chrono::milliseconds timeout{1000};  // the whole transfer, name resolution included
  std::size_t max_body = 1024 * 1024;       // reading stops here (truncated = true)
  bool tls_verify = true;
  std::string capture_header;  // a response header to keep (case-insensitive), e.g. "Api-Version"
};

struct GetResponse {
  long status = 0;
  std::string body;
  bool truncated = false;  // the body was longer than max_body; only the prefix is here
  std::string header;      // the value of capture_header, trimmed; empty when absent
};

struct GetError {
  CURLcode code = CURLE_OK;
  int os_errno = 0;     // CURLINFO_OS_ERRNO: why a connect failed
  std::string message;  // curl's error buffer, or curl_easy_strerror
};

// An easy handle, reused between requests so connections are kept. No signals (CURLOPT_NOSIGNAL),
// no proxies, no redirects, http and https only.
class CurlEasy {
 public:
  CurlEasy();
  ~CurlEasy();
  CurlEasy(const CurlEasy&) = delete;
  CurlEasy& operator=(const CurlEasy&) = delete;

  util::Expected<GetResponse, GetError> get(const GetRequest& request);

 private:
  CURL* handle_;
};

}  // namespace failoverd::health::detail
