#include "failoverd/daemon/runtime_problems.h"

#include <unistd.h>

#include "failoverd/config/hook_files.h"

namespace failoverd::daemon {

std::vector<config::Problem> runtime_problems(const config::Config& cfg) {
  auto out = config::check_hook_files(cfg.notify, ::geteuid());
  // The exec provider's program claims the address with the daemon's privileges, like a hook.
  // A bare name is found through PATH, whose directories belong to the system.
  const auto& command = cfg.reserved_ip.command;
  if (cfg.reserved_ip.provider == config::Provider::kExec && !command.empty() &&
      command.front().find('/') != std::string::npos) {
    auto program = config::check_program_file("reserved_ip", "command", command.front(),
                                              ::geteuid());
    out.insert(out.end(), program.begin(), program.end());
  }
  return out;
}

}  // namespace failoverd::daemon
