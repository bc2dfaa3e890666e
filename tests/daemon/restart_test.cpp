// The restart-in-place helpers of the daemon: the new process's argv, the snapshot file's
// mode, and who may read it back.
#include "failoverd/daemon/restart.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace failoverd::daemon {
namespace {

TEST(RestartInPlace, TheNewArgvIsTheOldOneWithOneRestore) {
  using V = std::vector<std::string>;
  EXPECT_EQ(restore_argv({"/usr/sbin/failoverd", "--config", "/etc/f.conf"}, "/run/f.restore"),
            (V{"/usr/sbin/failoverd", "--config", "/etc/f.conf", "--restore", "/run/f.restore"}));
  // After one restart in place the argv carries a --restore: the next one replaces it.
  EXPECT_EQ(restore_argv({"failoverd", "--restore", "/run/old", "-c", "x", "--restore=/run/o2"},
                         "/run/new"),
            (V{"failoverd", "-c", "x", "--restore", "/run/new"}));
}

TEST(RestartInPlace, TheSnapshotIsPrivateAndOnlyItsWriterReadsItBack) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("failoverd-restart-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "a.sock.restore").string();
  node::NodeSnapshot s;
  s.identity = {"a", "eth0", 51, {}, ""};
  s.instance.master_adver_interval = std::chrono::seconds(1);
  const std::string owner = snapshot_owner(::getpid());
  ASSERT_FALSE(owner.empty());
  EXPECT_NE(owner.find("pid " + std::to_string(::getpid())), std::string::npos) << owner;
  ASSERT_TRUE(write_private_file(path, node::format_snapshot({s, owner})));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);

  auto back = read_snapshot_file(path, ::getpid());
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->node, s);
  // Another process (here our parent) did not write it: refused.
  auto other = read_snapshot_file(path, ::getppid());
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().find("another process"), std::string::npos) << other.error();
  auto missing = read_snapshot_file((dir / "none").string(), ::getpid());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("cannot open"), std::string::npos) << missing.error();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace failoverd::daemon
