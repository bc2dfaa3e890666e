// What keeps a valid config from running on this host, checked at start and on reload: hook
// scripts, the exec provider's program and exec checks without a user, when others could have
// changed them (they run with the daemon's privileges); and an exec check's `user` when this
// process cannot switch users (the shipped unit), where the check could never run.
#pragma once

#include <string_view>
#include <vector>

#include "failoverd/config/config.h"

namespace failoverd::daemon {

// What this process may do; read from the process, or given by a test.
struct Privileges {
  unsigned euid = 0;
  bool can_switch_user = false;  // CAP_SETUID and CAP_SETGID are effective
};
Privileges current_privileges();

// Whether CAP_SETUID and CAP_SETGID are both in the CapEff line of a /proc/PID/status text;
// false when there is no such line.
bool status_can_switch_user(std::string_view proc_status);

std::vector<config::Problem> runtime_problems(const config::Config& cfg,
                                              const Privileges& privileges = current_privileges());

}  // namespace failoverd::daemon
