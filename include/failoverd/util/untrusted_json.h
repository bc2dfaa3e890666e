// Parsing JSON that another program sent (a cloud API's body, the Docker Engine's error):
// never an exception, never a document deep enough to exhaust the stack later. Header-only,
// for the modules that link nlohmann-json (fod_util itself does not).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "failoverd/util/expected.h"
#include "failoverd/util/json_depth.h"

namespace failoverd::util {

// The document, or why not: "body is not JSON" (which covers a number out of range such as
// 1e400) or "body nests deeper than 64 levels", refused before parsing.
inline Expected<nlohmann::json, std::string> parse_untrusted_json(std::string_view text) {
  if (json_nesting_exceeds(text))
    return unexpected("body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return unexpected(std::string("body is not JSON"));
  return j;
}

}  // namespace failoverd::util
