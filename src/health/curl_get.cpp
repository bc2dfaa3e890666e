#include "curl_get.h"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <new>

namespace failoverd::health::detail {

void ensure_curl_initialised() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

namespace {

struct Sink {
  std::string* body;
  std::size_t max;
  bool truncated = false;
};

// Returning less than asked makes curl abort with CURLE_WRITE_ERROR: that is how reading
// stops at the cap instead of buffering an endless answer.
std::size_t on_data(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  const std::size_t room = sink->max - std::min(sink->max, sink->body->size());
  if (n > room) {
    sink->body->append(data, room);
    sink->truncated = true;
    return 0;
  }
  sink->body->append(data, n);
  return n;
}

struct HeaderSink {
  const std::string* name;
  std::string* value;
};

// Called once per header line ("Api-Version: 1.41\r\n"), of every response in the exchange.
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<HeaderSink*>(user);
  const std::size_t n = size * count;
  const std::string_view line(data, n);
  const std::string& name = *sink->name;
  if (line.size() > name.size() && line[name.size()] == ':' &&
      std::equal(name.begin(), name.end(), line.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
      })) {
    std::string_view v = line.substr(name.size() + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) {
      v.remove_suffix(1);
    }
    sink->value->assign(v.substr(0, 64));
  }
  return n;
}

}  // namespace

CurlEasy::CurlEasy() {
  ensure_curl_initialised();
  handle_ = curl_easy_init();
  if (handle_ == nullptr) throw std::bad_alloc();
}

CurlEasy::~CurlEasy() { curl_easy_cleanup(handle_); }

util::Expected<GetResponse, GetError> CurlEasy::get(const GetRequest& request) {
  GetResponse response;
  Sink sink{&response.body, request.max_body};
  char error[CURL_ERROR_SIZE] = {};
  const long timeout_ms = std::max<long>(1, static_cast<long>(request.timeout.count()));

  CURL* h = handle_;
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH,
                   request.unix_socket.empty() ? nullptr : request.unix_socket.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // a daemon's threads must not see SIGALRM/SIGPIPE
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_PROXY, "");  // no proxy from the environment for local checks
  curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, request.tls_verify ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, request.tls_verify ? 2L : 0L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "failoverd-health");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_data);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  HeaderSink header_sink{&request.capture_header, &response.header};
  if (request.capture_header.empty()) {
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, nullptr);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, nullptr);
  } else {
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &header_sink);
  }

  const CURLcode code = curl_easy_perform(h);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);  // `error` goes out of scope
  curl_easy_setopt(h, CURLOPT_WRITEDATA, nullptr);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, nullptr);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, nullptr);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  response.truncated = sink.truncated;
  if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && sink.truncated)) return response;

  GetError e;
  e.code = code;
  long os_errno = 0;
  curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
  e.os_errno = static_cast<int>(os_errno);
  e.message = error[0] != '\0' ? std::string(error) : std::string(curl_easy_strerror(code));
  return util::unexpected(std::move(e));
}

}  // namespace failoverd::health::detail
