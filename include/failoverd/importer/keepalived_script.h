// How keepalived runs a vrrp_script's `script`, and the failoverd check that does the same.
//
// keepalived 2.0 and later (keepalived/core/notify.c: check_script_secure, system_call) split
// the string into argv and execve() it, after a PATH search for a bare program name: no shell,
// so '|', '&&' or '$X' are arguments like any other. keepalived 1.x ran every script with
// system(), so a line with shell syntax means what the installed version makes of it: refused.
// The one exception in 2.x is an argv[0] that starts with '<' then '/' (blanks allowed
// between): a redirection that tests whether a file opens, which keepalived hands to
// system(), i.e. /bin/sh -c, as 1.x did. What /bin/sh makes of "</dev/tcp/HOST/PORT"
// depends on the host: bash (RHEL's /bin/sh) connects to HOST:PORT; dash (Debian's and
// Ubuntu's) has no /dev/tcp and fails every time.
#pragma once

#include <string>
#include <vector>

#include "failoverd/config/values.h"

namespace failoverd::importer {

struct ScriptMapping {
  enum class Kind {
    kExec,     // [check] type = exec, command = argv: what keepalived runs
    kTcp,      // type = tcp, address: what "</dev/tcp/HOST/PORT" does with bash as /bin/sh
    kRefused,  // no failoverd check means the same: a FIXME with `why`
  };
  Kind kind = Kind::kRefused;
  std::vector<std::string> argv;  // kExec
  config::HostPort address;       // kTcp
  // kRefused: the reason. Otherwise what differs or what the user must know, for a comment
  // (empty when nothing does).
  std::string why;
  bool depends_on_sh = false;  // the meaning in keepalived depends on the host's /bin/sh
};

// REQUIRES: argv is not empty (split_keepalived_command of a non-blank script).
ScriptMapping map_keepalived_script(const std::vector<std::string>& argv);

}  // namespace failoverd::importer
