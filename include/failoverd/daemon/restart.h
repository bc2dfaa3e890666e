// Restart in place (failoverctl restart): the adapter's part around node::NodeSnapshot. The
// running daemon writes its state to a file in the runtime directory, has the binary on disk
// check that file and the config (`failoverd --check-config CONFIG --check-restore FILE`), and
// then execv()s that binary with its own argv plus `--restore FILE`: the same PID, so systemd
// keeps tracking it (RELOADING=1 before, READY=1 from the new process once it has resumed).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "failoverd/node/snapshot_json.h"
#include "failoverd/util/expected.h"

namespace failoverd::daemon {

// /proc/sys/kernel/random/boot_id, or "" where the unit's ProcSubset=pid hides it.
std::string boot_id();
// Who may resume a snapshot: the boot (/proc/sys/kernel/random/boot_id, when visible) and the
// process that wrote it (its pid and start time, which exec keeps): a restart in place is the
// same process. "" when /proc/PID/stat cannot be read (then nothing is written or accepted).
std::string snapshot_owner(pid_t pid);
// The file this process runs, resolved now (after an upgrade /proc/self/exe names a deleted
// file, so it is read once at start). Throws std::runtime_error when it cannot be read.
std::string own_binary();
// Where the snapshot of the instance whose control socket is `socket` goes: beside it, in
// the runtime directory (as the VIP ledger).
std::string snapshot_path(const std::string& socket);

// Writes `text` with mode 0600 (a temporary file renamed over `path`).
util::Expected<util::Ok, std::string> write_private_file(const std::string& path,
                                                         const std::string& text);
// Reads and parses a snapshot file written by process `writer` (this one after the exec; the
// parent for --check-restore), at most node::kMaxSnapshotBytes.
util::Expected<node::SnapshotDocument, std::string> read_snapshot_file(const std::string& path,
                                                                       pid_t writer);

// argv for the new process: `argv` without any earlier `--restore X`, plus `--restore path`.
std::vector<std::string> restore_argv(const std::vector<std::string>& argv,
                                      const std::string& path);

// execv(binary, argv); returns only on failure, with the reason.
std::string exec_binary(const std::string& binary, const std::vector<std::string>& argv);

}  // namespace failoverd::daemon
