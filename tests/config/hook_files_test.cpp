#include "failoverd/config/hook_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace failoverd::config {
namespace {

namespace fs = std::filesystem;

constexpr uid_t kStranger = 12345;

// A root-owned 0755 directory holding the hooks (tests run as root); removed afterwards.
class HookDir {
 public:
  HookDir() {
    std::string tmpl = (fs::temp_directory_path() / "fod-hookfiles-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
    ::chmod(path_.c_str(), 0755);
  }
  ~HookDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name, mode_t mode = 0755) const {
    const std::string p = (path_ / name).string();
    std::ofstream(p) << "#!/bin/sh\nexit 0\n";
    ::chmod(p.c_str(), mode);
    return p;
  }
  std::string subdir(const std::string& name, mode_t mode) const {
    const fs::path p = path_ / name;
    fs::create_directory(p);
    ::chmod(p.c_str(), mode);
    return p.string();
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::vector<std::string> messages(const Problems& problems) {
  std::vector<std::string> out;
  for (const auto& p : problems) out.push_back(p.to_string());
  return out;
}

TEST(HookFiles, NoHooksNoProblems) {
  EXPECT_TRUE(check_hook_files(NotifyConfig{}, 0).empty());
}

TEST(HookFiles, ASafeScriptPasses) {
  HookDir d;
  NotifyConfig n;
  n.master = d.file("master.sh", 0755);
  n.backup = d.file("backup.sh", 0700);
  n.stop = d.file("stop.sh", 0500);
  EXPECT_EQ(messages(check_hook_files(n, 0)), std::vector<std::string>{});
}

TEST(HookFiles, MissingScript) {
  HookDir d;
  NotifyConfig n;
  n.fault = (d.path() / "nope.sh").string();
  const Problems p = check_hook_files(n, 0);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].section, "notify");
  EXPECT_EQ(p[0].key, "fault");
  EXPECT_EQ(p[0].message, n.fault + ": No such file or directory");
}

TEST(HookFiles, GroupOrOtherWritableScriptIsRefused) {
  HookDir d;
  NotifyConfig n;
  n.master = d.file("master.sh", 0775);
  n.backup = d.file("backup.sh", 0757);
  EXPECT_EQ(messages(check_hook_files(n, 0)),
            (std::vector<std::string>{
                "[notify] master: " + n.master +
                    " is writable by group or others (mode 0775); chmod go-w it",
                "[notify] backup: " + n.backup +
                    " is writable by group or others (mode 0757); chmod go-w it"}));
}

TEST(HookFiles, NotExecutableOrNotARegularFile) {
  HookDir d;
  NotifyConfig n;
  n.master = d.file("master.sh", 0644);
  n.stop = d.subdir("stop.d", 0755);
  EXPECT_EQ(messages(check_hook_files(n, 0)),
            (std::vector<std::string>{
                "[notify] master: " + n.master + " is not executable (mode 0644); chmod +x it",
                "[notify] stop: " + n.stop + " is not a regular file"}));
}

TEST(HookFiles, OwnerMustBeRootOrTheDaemonsUser) {
  HookDir d;
  NotifyConfig n;
  n.master = d.file("master.sh", 0755);
  ASSERT_EQ(::chown(n.master.c_str(), kStranger, 0), 0);
  EXPECT_EQ(messages(check_hook_files(n, 0)),
            (std::vector<std::string>{"[notify] master: " + n.master +
                                      " is owned by uid 12345, not by root; chown it"}));
  // The daemon's own user may own it...
  EXPECT_TRUE(check_hook_files(n, kStranger).empty());
  // ...but not someone else when the daemon runs as another user.
  const Problems p = check_hook_files(n, 4242);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].message, n.master +
                              " is owned by uid 12345, not by root or the daemon's user "
                              "(uid 4242); chown it");
}

TEST(HookFiles, OneProblemPerIssue) {
  HookDir d;
  NotifyConfig n;
  n.master = d.file("master.sh", 0666);
  ASSERT_EQ(::chown(n.master.c_str(), kStranger, 0), 0);
  const Problems p = check_hook_files(n, 0);
  ASSERT_EQ(p.size(), 3u);  // not executable, writable, owner
  for (const auto& problem : p) EXPECT_EQ(problem.key, "master");
}

TEST(HookFiles, WritableOrForeignDirectoryIsRefused) {
  HookDir d;
  const std::string open_dir = d.subdir("open", 0777);
  const std::string sticky_dir = d.subdir("sticky", 01777);
  const std::string foreign_dir = d.subdir("foreign", 0755);
  ASSERT_EQ(::chown(foreign_dir.c_str(), kStranger, 0), 0);
  NotifyConfig n;
  n.master = open_dir + "/master.sh";
  n.backup = sticky_dir + "/backup.sh";
  n.fault = foreign_dir + "/fault.sh";
  for (const auto& p : {n.master, n.backup, n.fault}) {
    std::ofstream(p) << "#!/bin/sh\n";
    ::chmod(p.c_str(), 0755);
  }
  EXPECT_EQ(messages(check_hook_files(n, 0)),
            (std::vector<std::string>{
                "[notify] master: directory " + open_dir + " (holding " + n.master +
                    ") is writable by group or others (mode 0777); chmod go-w it",
                "[notify] backup: directory " + sticky_dir + " (holding " + n.backup +
                    ") is writable by group or others (mode 1777); chmod go-w it",
                "[notify] fault: directory " + foreign_dir + " (holding " + n.fault +
                    ") is owned by uid 12345, not by root; chown it"}));
}

// A symlink from a safe directory to a script in a writable one is as unsafe as the script.
TEST(HookFiles, ASymlinkIsJudgedByItsTarget) {
  HookDir d;
  const std::string open_dir = d.subdir("open", 0777);
  const std::string target = open_dir + "/real.sh";
  std::ofstream(target) << "#!/bin/sh\n";
  ::chmod(target.c_str(), 0775);
  NotifyConfig n;
  n.master = (d.path() / "master.sh").string();
  fs::create_symlink(target, n.master);
  EXPECT_EQ(messages(check_hook_files(n, 0)),
            (std::vector<std::string>{
                "[notify] master: " + n.master +
                    " is writable by group or others (mode 0775); chmod go-w it",
                "[notify] master: directory " + open_dir + " (holding " + n.master +
                    ") is writable by group or others (mode 0777); chmod go-w it"}));
}

}  // namespace
}  // namespace failoverd::config
