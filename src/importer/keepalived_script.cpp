#include "failoverd/importer/keepalived_script.h"

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace failoverd::importer {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// A path both bash and dash open as a plain file, and failoverd's command syntax can quote.
bool plain_path(std::string_view p) {
  return !p.empty() && p[0] == '/' && std::all_of(p.begin(), p.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
           std::string_view("/._+-:@,%").find(c) != std::string_view::npos;
  });
}

// Whether keepalived's version decides what the script means: a word holds shell syntax (a
// pipe, redirection, variable, glob, ...) outside an explicit shell's -c argument, which execs
// the same either way.
bool needs_shell(const std::vector<std::string>& argv) {
  static const std::set<std::string, std::less<>> kShells = {
      "/bin/sh", "/bin/bash", "/usr/bin/sh", "/usr/bin/bash", "/bin/dash", "/usr/bin/dash"};
  if (kShells.count(argv[0]) != 0) return false;
  return std::any_of(argv.begin(), argv.end(), [](const std::string& a) {
    return a.find_first_of("|&;<>()$`*?[]~{}") != std::string::npos;
  });
}

ScriptMapping refused(std::string why, bool depends_on_sh = false) {
  ScriptMapping m;
  m.kind = ScriptMapping::Kind::kRefused;
  m.why = std::move(why);
  m.depends_on_sh = depends_on_sh;
  return m;
}

// "</dev/tcp/HOST/PORT": bash splits HOST at the first '/' and resolves both with
// getaddrinfo(), trying each address in turn, as failoverd's tcp check does.
ScriptMapping dev_tcp(std::string_view rest) {
  const auto slash = rest.find('/');
  const std::string_view host = rest.substr(0, slash);
  const std::string_view port =
      slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  const char* const kDash =
      "with dash as /bin/sh (Debian, Ubuntu) /dev/tcp does not exist and "
      "keepalived's check failed every time";
  if (host.empty() || port.empty()) {
    return refused("a /dev/tcp path without HOST/PORT: bash refuses it and " + std::string(kDash),
                   true);
  }
  if (!std::all_of(port.begin(), port.end(), is_digit)) {
    return refused(
        "port " + std::string(port) +
            " is not a number (bash looks a service name "
            "up in /etc/services; failoverd's tcp address takes a number): write the tcp "
            "check's address by hand",
        true);
  }
  const bool v6 = host.find(':') != std::string_view::npos;
  const std::string text =
      (v6 ? "[" + std::string(host) + "]" : std::string(host)) + ":" + std::string(port);
  auto address = config::parse_host_port(text);
  if (!address || address->port == 0) {
    return refused("/dev/tcp/" + std::string(rest) + " is not a failoverd tcp address (" +
                       (address ? std::string("port 0") : address.error()) + ")",
                   true);
  }
  ScriptMapping m;
  m.kind = ScriptMapping::Kind::kTcp;
  m.address = *address;
  m.depends_on_sh = true;
  m.why =
      "keepalived runs this with /bin/sh -c. With bash as /bin/sh (RHEL, Fedora, SUSE) it "
      "passes when a TCP connection to " +
      address->to_string() +
      " opens, as type = tcp "
      "does; " +
      std::string(kDash) +
      ", so on such a host this check now passes where "
      "keepalived's failed";
  return m;
}

}  // namespace

ScriptMapping map_keepalived_script(const std::vector<std::string>& argv) {
  const std::string& first = argv.front();
  if (!first.empty() && first[0] == '<') {
    const std::size_t slash = first.find_first_not_of(" \t", 1);
    if (slash == std::string::npos || first[slash] != '/') {
      // Not keepalived's redirection form: it looks for a program of that name and, finding
      // none, disables the script.
      return refused("keepalived finds no program " + first +
                     " and disables this script: fix "
                     "the script, or remove the check");
    }
    if (argv.size() > 1) {
      return refused(
          "keepalived hands this to /bin/sh with arguments it quotes itself, and "
          "counts a shell exit of 126 or 127 as a pass: write the check by hand",
          true);
    }
    const std::string_view path = std::string_view(first).substr(slash);
    if (path.rfind("/dev/tcp/", 0) == 0) return dev_tcp(path.substr(9));
    if (path.rfind("/dev/udp/", 0) == 0 || path == "/dev/tcp" || path == "/dev/udp") {
      return refused(
          "bash opens a UDP socket without sending anything (it always passes), and "
          "dash (Debian's /bin/sh) has no /dev/udp (it always fails): no check "
          "means the same",
          true);
    }
    if (!plain_path(path)) {
      return refused(
          "keepalived hands this redirection to /bin/sh, and its path has characters "
          "a shell reads as syntax: write the check by hand",
          true);
    }
    // Opening a plain file reads the same in every /bin/sh, so the same shell line is exact.
    ScriptMapping m;
    m.kind = ScriptMapping::Kind::kExec;
    m.argv = {"/bin/sh", "-c", first};
    m.why = "keepalived runs this with /bin/sh -c; it passes when " + std::string(path) +
            " can be opened for reading, in bash and dash alike";
    return m;
  }
  if (needs_shell(argv)) {
    // keepalived 2.0 and later exec the words as they are; 1.x ran the line with system().
    return refused("keepalived 2.0 and later run " + first +
                   " with these words as plain "
                   "arguments, through no shell; keepalived 1.x ran the line with /bin/sh -c: set "
                   "command to what your keepalived did (the words as they are, or /bin/sh -c "
                   "\"...\")");
  }
  ScriptMapping m;
  m.kind = ScriptMapping::Kind::kExec;
  m.argv = argv;
  return m;
}

}  // namespace failoverd::importer
