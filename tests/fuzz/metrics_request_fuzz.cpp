// The metrics server's request reader (src/metrics/http_request.cpp): anything that reaches
// the metrics port is read by end_of_http_head and parse_http_request_line.
//
// Contract: never throws. end_of_http_head is npos exactly when the input holds neither
// "\r\n\r\n" nor "\n\n", else the length of the shortest prefix that ends with one of them.
// An accepted request line has a non-empty token method and a path that is "*" or starts
// with '/', with no '?', space, control character or DEL, both inside the first line; written
// back as "METHOD SP path SP HTTP/1.1" it parses to the same method and path.
#include <string>

#include "failoverd/metrics/http_request.h"
#include "fuzz_support.h"

namespace metrics = failoverd::metrics;

namespace {

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos)
      return false;
  }
  return true;
}

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void check_head_end(std::string_view in) {
  const auto end = metrics::end_of_http_head(in);
  const bool complete = in.find("\r\n\r\n") != std::string_view::npos ||
                        in.find("\n\n") != std::string_view::npos;
  FUZZ_CHECK((end != std::string_view::npos) == complete, std::string(in));
  if (end == std::string_view::npos) return;
  FUZZ_CHECK(end >= 2 && end <= in.size(), std::to_string(end));
  const auto head = in.substr(0, end);
  FUZZ_CHECK(head.ends_with("\n\n") || head.ends_with("\r\n\r\n"), std::string(head));
  FUZZ_CHECK(metrics::end_of_http_head(head.substr(0, end - 1)) == std::string_view::npos,
             std::string(head));
}

void check_request_line(std::string_view head) {
  const auto r = metrics::parse_http_request_line(head);
  if (!r) return;
  const auto first_line = head.substr(0, head.find('\n'));
  FUZZ_CHECK(inside(r->method, first_line) && inside(r->path, first_line), std::string(head));
  FUZZ_CHECK(is_token(r->method), std::string(r->method));
  FUZZ_CHECK(r->path == "*" || (!r->path.empty() && r->path.front() == '/'), std::string(r->path));
  for (char ch : r->path) {
    const auto c = static_cast<unsigned char>(ch);
    FUZZ_CHECK(c > 0x20 && c != 0x7f && c != '?', std::string(r->path));
  }
  const std::string again = std::string(r->method) + " " + std::string(r->path) + " HTTP/1.1\r\n";
  const auto r2 = metrics::parse_http_request_line(again);
  FUZZ_CHECK(r2 && r2->method == r->method && r2->path == r->path, again);
}

void run(std::string_view in) {
  check_head_end(in);
  check_request_line(in);
  // What the server hands over: the head up to its end.
  const auto end = metrics::end_of_http_head(in);
  if (end != std::string_view::npos) check_request_line(in.substr(0, end));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FUZZ_GUARD(run(fuzz::as_text(data, size)));
  return 0;
}
