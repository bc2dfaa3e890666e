// The start-up check of the [notify] hook scripts: failoverd runs them as its own user (often
// root), so a script that someone else could rewrite is a way in, and is refused at start.
#pragma once

#include <sys/types.h>

#include "failoverd/config/config.h"

namespace failoverd::config {

// For each configured hook (master, backup, fault, stop): the path must exist, be a regular
// file (symlinks are followed, as execve does), be executable, not be writable by group or
// others, and be owned by root or `daemon_uid`; the directory holding it (and, for a symlink,
// the directory holding its target) must not be writable by group or others and must be owned
// by root or `daemon_uid`, since whoever may write the directory may replace the script.
// One Problem per issue, section "notify", key = the hook's name; the message names the path,
// what is wrong and the fix. Does not read the scripts.
Problems check_hook_files(const NotifyConfig& notify, uid_t daemon_uid);

// The same checks for one program the daemon runs with its privileges (the exec provider's
// command), reported under `section` and `key`.
Problems check_program_file(const std::string& section, const std::string& key,
                            const std::string& path, uid_t daemon_uid);

}  // namespace failoverd::config
