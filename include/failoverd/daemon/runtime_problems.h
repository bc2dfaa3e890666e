// What keeps a valid config from running on this host, checked at start and on reload: hook
// scripts, the exec provider's program and exec checks without a user, when others could have
// changed them (they run with the daemon's privileges).
#pragma once

#include <vector>

#include "failoverd/config/config.h"

namespace failoverd::daemon {

std::vector<config::Problem> runtime_problems(const config::Config& cfg);

}  // namespace failoverd::daemon
