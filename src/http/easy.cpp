#include "failoverd/http/easy.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>  // explicit_bzero
#include <mutex>

#include "failoverd/http/libcurl.h"
#include "failoverd/util/text.h"

namespace failoverd::http {

std::string init() {
  // curl_global_init is not thread-safe on every libcurl build: once, for the whole process.
  static std::once_flag once;
  static std::string error;
  std::call_once(once, [] {
    error = libcurl_load_error();
    if (!error.empty()) return;
    const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) error = std::string("curl_global_init: ") + curl_easy_strerror(code);
  });
  return error;
}

std::optional<std::string> Response::header(std::string_view name) const {
  const std::string key = util::lower(name);
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
    if (it->first == key) return it->second;
  }
  return std::nullopt;
}

namespace {

// What one exchange collects; the callbacks write here.
struct Exchange {
  const Request* request;
  Response response;
  std::size_t header_bytes = 0;
  bool body_too_large = false;
  bool headers_too_large = false;
};

// Returning less than offered makes libcurl stop with CURLE_WRITE_ERROR: that is how reading
// stops at the cap instead of buffering an endless answer.
std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* x = static_cast<Exchange*>(user);
  const std::size_t n = size * count;
  std::string& body = x->response.body;
  const std::size_t max = x->request->max_body;
  const std::size_t room = max - std::min(max, body.size());
  if (n <= room) {
    body.append(data, n);
    return n;
  }
  if (x->request->truncate_body) {
    body.append(data, room);
    x->response.truncated = true;
  } else {
    x->body_too_large = true;
  }
  return 0;
}

// Once per header line, of every response in the exchange (a 100 Continue's too).
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* x = static_cast<Exchange*>(user);
  const std::size_t n = size * count;
  x->header_bytes += n;
  if (x->header_bytes > kMaxHeaderBytes) {
    x->headers_too_large = true;
    return 0;
  }
  const std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    x->response.headers.clear();  // a new response: keep only the final one's headers
    return n;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return n;
  x->response.headers.emplace_back(util::lower(util::trim(line.substr(0, colon))),
                                   std::string(util::trim(line.substr(colon + 1))));
  return n;
}

struct Slist {
  curl_slist* list = nullptr;
  ~Slist() { curl_slist_free_all(list); }
  bool append(const std::string& line) {
    curl_slist* next = curl_slist_append(list, line.c_str());
    if (next == nullptr) return false;
    list = next;
    return true;
  }
};

ErrorKind kind_of(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return ErrorKind::kTimeout;
    case CURLE_COULDNT_RESOLVE_HOST:
      return ErrorKind::kResolve;
    case CURLE_COULDNT_CONNECT:
      return ErrorKind::kConnect;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
      return ErrorKind::kTls;
    case CURLE_PEER_FAILED_VERIFICATION:
      return ErrorKind::kTlsVerify;
    case CURLE_UNSUPPORTED_PROTOCOL:
      return ErrorKind::kUnsupportedUrl;
    case CURLE_URL_MALFORMAT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      return ErrorKind::kBadRequest;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
      return ErrorKind::kClosed;
    case CURLE_FAILED_INIT:
      return ErrorKind::kUnavailable;
    default:
      return ErrorKind::kOther;
  }
}

}  // namespace

util::Expected<Easy, Error> Easy::open() {
  if (std::string why = init(); !why.empty()) {
    return util::unexpected(Error{ErrorKind::kUnavailable, 0, std::move(why), Millis(0)});
  }
  CURL* handle = curl_easy_init();
  if (handle == nullptr) {
    return util::unexpected(Error{ErrorKind::kUnavailable, 0, "curl_easy_init failed", Millis(0)});
  }
  return Easy(handle);
}

Easy::~Easy() {
  if (handle_ != nullptr) curl_easy_cleanup(handle_);
}

Easy& Easy::operator=(Easy&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) curl_easy_cleanup(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

Result Easy::perform(const Request& request) {
  CURL* h = handle_;
  curl_easy_reset(h);  // keeps the connection cache, drops every option of the last exchange

  Exchange x{&request, {}};
  char error[CURL_ERROR_SIZE] = {};
  Slist headers;
  bool listed = headers.append("Expect:");  // no 100-continue round trip before a body
  for (const auto& [name, value] : request.headers) {
    std::string line = name + ": " + value;
    listed = listed && headers.append(line);
    explicit_bzero(line.data(), line.size());  // may be a bearer token
  }
  if (!listed) {
    return util::unexpected(Error{ErrorKind::kOther, 0, "out of memory for headers", Millis(0)});
  }

  const long total_ms = std::max<long>(1, static_cast<long>(request.timeout.count()));
  const long asked_connect = static_cast<long>(request.connect_timeout.count());
  const long connect_ms = asked_connect > 0 ? std::min(asked_connect, total_ms) : total_ms;

  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  if (!request.unix_socket.empty()) {
    curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, request.unix_socket.c_str());
  }
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // a daemon's threads must not see SIGALRM/SIGPIPE
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);  // a token must not travel to another host
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  if (!request.proxy_from_environment) {
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  }
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, request.tls_verify ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, request.tls_verify ? 2L : 0L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, request.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.list);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
  if (request.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else {
    if (request.method != "POST") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    if (request.method == "POST" || !request.body.empty()) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.c_str());
    }
  }

  const CURLcode code = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &x.response.status);
  curl_off_t total_us = 0;
  curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &total_us);
  x.response.latency = Millis(total_us / 1000);
  long os_errno = 0;
  curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
  // The handle keeps pointers to these until the next reset; they go out of scope here.
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, nullptr);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, nullptr);

  if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && x.response.truncated)) {
    return std::move(x.response);
  }
  Error e;
  e.latency = x.response.latency;
  e.os_errno = static_cast<int>(os_errno);
  if (code == CURLE_WRITE_ERROR && x.body_too_large) {
    e.kind = ErrorKind::kBodyTooLarge;
    e.message = "response body larger than " + std::to_string(request.max_body) + " bytes";
  } else if (code == CURLE_WRITE_ERROR && x.headers_too_large) {
    e.kind = ErrorKind::kHeadersTooLarge;
    e.message = "response headers larger than " + std::to_string(kMaxHeaderBytes) + " bytes";
  } else {
    e.kind = kind_of(code);
    e.message = error[0] != '\0' ? std::string(error) : std::string(curl_easy_strerror(code));
  }
  return util::unexpected(std::move(e));
}

}  // namespace failoverd::http
