// Helpers shared by the config tests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "failoverd/config/config.h"

namespace failoverd::config::testing {

inline constexpr std::string_view kMinimal = R"(
[instance]
name = web
interface = eth1

[vrrp]
virtual_router_id = 51
)";

// The problems of an invalid config, as the lines `failoverd --check-config` prints; empty
// (and a test failure) when the config is valid.
inline std::vector<std::string> problems(std::string_view text,
                                         const std::vector<std::string>& overrides = {}) {
  auto r = parse_config(text, overrides);
  std::vector<std::string> out;
  if (r) {
    ADD_FAILURE() << "expected problems, but the config is valid";
    return out;
  }
  for (const auto& p : r.error()) out.push_back(p.to_string());
  return out;
}

// The config of a valid text; a test failure listing the problems otherwise.
inline Config parse_ok(std::string_view text, const std::vector<std::string>& overrides = {}) {
  auto r = parse_config(text, overrides);
  if (!r) {
    std::string all;
    for (const auto& p : r.error()) all += "\n  " + p.to_string();
    ADD_FAILURE() << "expected a valid config, got:" << all;
    return Config{};
  }
  return std::move(r).value();
}

// kMinimal with `extra` appended.
inline std::string minimal_plus(std::string_view extra) {
  return std::string(kMinimal) + std::string(extra);
}

}  // namespace failoverd::config::testing
