#include "failoverd/daemon/runtime_problems.h"

#include <linux/capability.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>

#include "failoverd/config/hook_files.h"

namespace failoverd::daemon {

namespace {

// A bare name is found through PATH, whose directories belong to the system: only a path is
// checked.
void check_program(const std::string& section, const std::vector<std::string>& command,
                   unsigned euid, std::vector<config::Problem>& out) {
  if (command.empty() || command.front().find('/') == std::string::npos) return;
  auto program = config::check_program_file(section, "command", command.front(), euid);
  out.insert(out.end(), program.begin(), program.end());
}

}  // namespace

bool status_can_switch_user(std::string_view proc_status) {
  constexpr std::string_view kKey = "\nCapEff:";
  const auto at = proc_status.find(kKey);
  if (at == std::string_view::npos) return false;
  std::string_view rest = proc_status.substr(at + kKey.size());
  while (!rest.empty() && (rest.front() == '\t' || rest.front() == ' ')) rest.remove_prefix(1);
  std::uint64_t caps = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), caps, 16);
  if (ec != std::errc() || end == rest.data()) return false;
  constexpr std::uint64_t kNeeded = (1ULL << CAP_SETUID) | (1ULL << CAP_SETGID);
  return (caps & kNeeded) == kNeeded;
}

Privileges current_privileges() {
  Privileges p;
  p.euid = ::geteuid();
  std::ifstream in("/proc/self/status");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Without /proc, root is assumed able to (the common case outside a sandbox).
  p.can_switch_user = text.empty() ? p.euid == 0 : status_can_switch_user("\n" + text);
  return p;
}

std::vector<config::Problem> runtime_problems(const config::Config& cfg,
                                              const Privileges& privileges) {
  auto out = config::check_hook_files(cfg.notify, privileges.euid);
  // The exec provider's program claims the address with the daemon's privileges, like a hook.
  if (cfg.reserved_ip.provider == config::Provider::kExec)
    check_program("reserved_ip", cfg.reserved_ip.command, privileges.euid, out);
  // So does an exec check without `user` (and the unit's ambient capabilities go with it).
  // With `user`, it runs as that user, who gains nothing by rewriting it.
  for (const auto& check : cfg.checks) {
    const auto* exec = std::get_if<config::ExecCheckSpec>(&check.spec);
    if (exec == nullptr) continue;
    if (!exec->user) {
      check_program("check." + check.name, exec->command, privileges.euid, out);
    } else if (!privileges.can_switch_user) {
      // Under the shipped unit the child would die of SIGSYS (its system call filter denies
      // setuid) and the node would stay in FAULT with no word why: refuse it here instead.
      out.push_back({"check." + check.name, "user",
                     "running the check as " + *exec->user +
                         " needs CAP_SETUID and CAP_SETGID, which failoverd does not have here "
                         "(the shipped unit runs it as user failoverd without them); leave "
                         "user unset to run the check as failoverd's own user"});
    }
  }
  return out;
}

}  // namespace failoverd::daemon
