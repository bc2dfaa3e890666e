// Checks shared by the cloud API targets.
#pragma once

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "failoverd/cloud/http_client.h"
#include "fuzz_support.h"

namespace fuzz {

inline bool has_line_break(std::string_view s) {
  return s.find_first_of("\r\n") != std::string_view::npos;
}

// The API error fields of any body: one line each, of a bounded length (300 bytes and "...").
inline void check_api_error(std::string_view body) {
  failoverd::cloud::HttpError e;
  e.kind = failoverd::cloud::HttpErrorKind::kHttpStatus;
  e.status = 422;
  e.attempts = 1;
  failoverd::cloud::parse_api_error(body, e);
  for (const std::string* s : {&e.api_id, &e.api_message, &e.request_id}) {
    FUZZ_CHECK(!has_line_break(*s), *s);
    FUZZ_CHECK(s->size() <= 303, std::to_string(s->size()) + " bytes");
  }
  const std::string text = e.to_string();
  FUZZ_CHECK(!has_line_break(text), text);
}

// A metadata service's plain decimal id (parse_droplet_id, parse_instance_id): an accepted one
// is positive and is the number the trimmed body spells.
template <typename Parse>
void check_decimal_id(std::string_view body, Parse parse) {
  const auto id = parse(body);
  if (!id) {
    FUZZ_CHECK(!id.error().empty(), body);
    return;
  }
  FUZZ_CHECK(*id > 0, body);
  std::string trimmed(body);
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back())))
    trimmed.pop_back();
  std::size_t start = 0;
  while (start < trimmed.size() && std::isspace(static_cast<unsigned char>(trimmed[start])))
    ++start;
  trimmed.erase(0, start);
  FUZZ_CHECK(!trimmed.empty() && trimmed.find_first_not_of("0123456789") == std::string::npos,
             body);
  errno = 0;
  const unsigned long long want = std::strtoull(trimmed.c_str(), nullptr, 10);
  FUZZ_CHECK(errno == 0 && want == *id, trimmed + " read as " + std::to_string(*id));
}

}  // namespace fuzz
