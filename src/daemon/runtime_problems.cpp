#include "failoverd/daemon/runtime_problems.h"

#include <unistd.h>

#include "failoverd/config/hook_files.h"

namespace failoverd::daemon {

namespace {

// A bare name is found through PATH, whose directories belong to the system: only a path is
// checked.
void check_program(const std::string& section, const std::vector<std::string>& command,
                   std::vector<config::Problem>& out) {
  if (command.empty() || command.front().find('/') == std::string::npos) return;
  auto program = config::check_program_file(section, "command", command.front(), ::geteuid());
  out.insert(out.end(), program.begin(), program.end());
}

}  // namespace

std::vector<config::Problem> runtime_problems(const config::Config& cfg) {
  auto out = config::check_hook_files(cfg.notify, ::geteuid());
  // The exec provider's program claims the address with the daemon's privileges, like a hook.
  if (cfg.reserved_ip.provider == config::Provider::kExec)
    check_program("reserved_ip", cfg.reserved_ip.command, out);
  // So does an exec check without `user` (and the unit's ambient capabilities go with it).
  // With `user`, it runs as that user, who gains nothing by rewriting it.
  for (const auto& check : cfg.checks) {
    const auto* exec = std::get_if<config::ExecCheckSpec>(&check.spec);
    if (exec != nullptr && !exec->user) check_program("check." + check.name, exec->command, out);
  }
  return out;
}

}  // namespace failoverd::daemon
