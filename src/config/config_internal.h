// Shared between config.cpp and files.cpp; not part of the module's interface.
#pragma once

#include <string_view>
#include <vector>

#include "failoverd/config/config.h"

namespace failoverd::config::internal {

// Everything parse_config() found: the config as far as it could be filled in, and the
// problems (empty when the config is valid). load_config() uses the partial config to check
// files even when other problems exist, so one run reports everything.
struct ParseResult {
  Config config;
  Problems problems;
};

ParseResult parse(std::string_view ini_text, const std::vector<std::string>& overrides);

}  // namespace failoverd::config::internal
