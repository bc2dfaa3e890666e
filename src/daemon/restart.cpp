#include "failoverd/daemon/restart.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "failoverd/util/read_fd.h"
#include "failoverd/util/unique_fd.h"

namespace failoverd::daemon {

namespace {

std::string errno_text() { return std::strerror(errno); }

}  // namespace

std::string boot_id() {
  std::string boot;
  std::getline(std::ifstream("/proc/sys/kernel/random/boot_id"), boot);
  return boot;
}

std::string snapshot_owner(pid_t pid) {
  // The unit's ProcSubset=pid hides /proc/sys: then the process's start time alone says it.
  const std::string boot = boot_id();
  // Field 22 of /proc/PID/stat, after the command name in parentheses (which may hold spaces).
  std::string stat;
  std::getline(std::ifstream("/proc/" + std::to_string(pid) + "/stat"), stat);
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream rest(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
  }
  if (!rest) return "";
  return (boot.empty() ? std::string("boot ?") : "boot " + boot) + ", pid " +
         std::to_string(pid) + " started at tick " + field;
}

std::string own_binary() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw std::runtime_error("cannot read /proc/self/exe: " + errno_text());
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string snapshot_path(const std::string& socket) { return socket + ".restore"; }

util::Expected<util::Ok, std::string> write_private_file(const std::string& path,
                                                         const std::string& text) {
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return util::unexpected("cannot create " + tmp + ": " + errno_text());
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = errno_text();
      ::close(fd);
      ::unlink(tmp.c_str());
      return util::unexpected("cannot write " + tmp + ": " + why);
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = errno_text();
    ::unlink(tmp.c_str());
    return util::unexpected("cannot rename " + tmp + " to " + path + ": " + why);
  }
  return util::Ok{};
}

util::Expected<node::SnapshotDocument, std::string> read_snapshot_file(const std::string& path,
                                                                       pid_t writer) {
  const util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return util::unexpected("cannot open " + path + ": " + errno_text());
  // One byte over the limit at most: parse_snapshot says such a text is too large.
  const auto text = util::read_up_to(fd.get(), node::kMaxSnapshotBytes);
  if (!text) return util::unexpected("cannot read " + path + ": " + std::strerror(text.error()));
  const std::string owner = snapshot_owner(writer);
  if (owner.empty()) return util::unexpected("cannot read /proc/" + std::to_string(writer) + "/stat");
  auto doc = node::parse_snapshot(*text, owner);
  if (!doc) return util::unexpected(path + ": " + doc.error());
  return doc;
}

std::vector<std::string> restore_argv(const std::vector<std::string>& argv,
                                      const std::string& path) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    if (argv[i] == "--restore") {
      ++i;  // and its value
      continue;
    }
    if (argv[i].rfind("--restore=", 0) == 0) continue;
    out.push_back(argv[i]);
  }
  out.push_back("--restore");
  out.push_back(path);
  return out;
}

std::string exec_binary(const std::string& binary, const std::vector<std::string>& argv) {
  // Nothing but stdin, stdout and stderr (the journal streams) crosses: the new process opens
  // its own sockets, and a socket left open (asio does not set FD_CLOEXEC on what it accepts
  // or binds) would keep a port bound or a control client waiting.
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < 65536; ++fd) {
      const int flags = ::fcntl(fd, F_GETFD);
      if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
  }
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execv(binary.c_str(), args.data());
  return "execv " + binary + ": " + errno_text();
}

}  // namespace failoverd::daemon
