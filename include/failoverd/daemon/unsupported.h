// Config sections that parse and validate but that this build cannot carry out yet. Running
// with one of them would silently not do what the operator asked (a health check that never
// fails over, an address never claimed), so the daemon refuses to start instead.
#pragma once

#include <vector>

#include "failoverd/config/config.h"

namespace failoverd::daemon {

std::vector<config::Problem> unsupported_features(const config::Config& cfg);

// What keeps a valid config from running here: unsupported features, and hook scripts that
// others could have changed (they run with the daemon's privileges).
std::vector<config::Problem> runtime_problems(const config::Config& cfg);

}  // namespace failoverd::daemon
