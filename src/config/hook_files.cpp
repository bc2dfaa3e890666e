#include "failoverd/config/hook_files.h"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

namespace failoverd::config {

namespace {

std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::string errno_text(int err) { return std::generic_category().message(err); }

std::string owners_text(uid_t daemon_uid) {
  return daemon_uid == 0 ? "root" : "root or the daemon's user (uid " +
                                        std::to_string(daemon_uid) + ")";
}

bool trusted_owner(uid_t owner, uid_t daemon_uid) { return owner == 0 || owner == daemon_uid; }

// `what` is "/etc/failoverd/master.sh" or "directory /etc/failoverd".
void check_owner_and_mode(const std::string& section, const struct stat& st,
                          const std::string& what, uid_t daemon_uid,
                          const std::string& key, Problems& out) {
  if ((st.st_mode & 022) != 0) {
    out.push_back({section, key,
                   what + " is writable by group or others (mode " + mode_text(st.st_mode) +
                       "); chmod go-w it"});
  }
  if (!trusted_owner(st.st_uid, daemon_uid)) {
    out.push_back({section, key,
                   what + " is owned by uid " + std::to_string(st.st_uid) + ", not by " +
                       owners_text(daemon_uid) + "; chown it"});
  }
}

void check_directory(const std::string& section, const std::filesystem::path& dir, const std::string& hook_path,
                     uid_t daemon_uid, const std::string& key, Problems& out) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    out.push_back({section, key,
                   "directory " + dir.string() + " of " + hook_path + ": " + errno_text(errno)});
    return;
  }
  check_owner_and_mode(section, st, "directory " + dir.string() + " (holding " + hook_path + ")",
                       daemon_uid, key, out);
}

void check_hook(const std::string& section, const std::string& key, const std::string& path, uid_t daemon_uid,
                Problems& out) {
  if (path.empty()) return;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    out.push_back({section, key, path + ": " + errno_text(errno)});
  } else if (!S_ISREG(st.st_mode)) {
    out.push_back({section, key, path + " is not a regular file"});
  } else {
    if ((st.st_mode & 0111) == 0) {
      out.push_back({section, key,
                     path + " is not executable (mode " + mode_text(st.st_mode) +
                         "); chmod +x it"});
    }
    check_owner_and_mode(section, st, path, daemon_uid, key, out);
  }

  // Whoever may write a directory on the way may swap the script: check the one named in the
  // config and, when that is a symlink elsewhere, the one holding the real file.
  const std::filesystem::path configured = std::filesystem::path(path).parent_path();
  check_directory(section, configured, path, daemon_uid, key, out);
  std::unique_ptr<char, decltype(&std::free)> real(::realpath(path.c_str(), nullptr), &std::free);
  if (real) {
    const std::filesystem::path real_dir = std::filesystem::path(real.get()).parent_path();
    std::unique_ptr<char, decltype(&std::free)> configured_real(
        ::realpath(configured.c_str(), nullptr), &std::free);
    if (!configured_real || real_dir != std::filesystem::path(configured_real.get())) {
      check_directory(section, real_dir, path, daemon_uid, key, out);
    }
  }
}

}  // namespace

Problems check_hook_files(const NotifyConfig& notify, uid_t daemon_uid) {
  Problems problems;
  check_hook("notify", "master", notify.master, daemon_uid, problems);
  check_hook("notify", "backup", notify.backup, daemon_uid, problems);
  check_hook("notify", "fault", notify.fault, daemon_uid, problems);
  check_hook("notify", "stop", notify.stop, daemon_uid, problems);
  return problems;
}

Problems check_program_file(const std::string& section, const std::string& key,
                            const std::string& path, uid_t daemon_uid) {
  Problems problems;
  check_hook(section, key, path, daemon_uid, problems);
  return problems;
}

}  // namespace failoverd::config
