// The crash record's file: created private and one page long, written through the mapping so
// that what a process stored is in the file when it dies, read back by the next one, and
// removed at a clean shutdown.
#include "failoverd/daemon/crash_record_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

namespace failoverd::daemon {
namespace {

class CrashRecordFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("failoverd-crash-record-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "a.sock.crash").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  node::CrashRecord record() const {
    node::CrashRecord r;
    r.identity.name = "a";
    r.identity.interface = "eth0";
    r.identity.virtual_router_id = 51;
    r.identity.transport = "vrrp";
    r.identity.source = "10.0.0.2";
    r.master = true;
    r.last_advert = std::chrono::seconds(12);
    r.pid = 1234;
    r.owner = "boot ?, pid 1234 started at tick 5";
    return r;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(CrashRecordFileTest, NoFileIsNoRecord) {
  EXPECT_FALSE(read_crash_record(path_));
}

TEST_F(CrashRecordFileTest, WhatADeadWriterStoredIsReadBack) {
  // The writer is a child killed with SIGKILL right after its stores: no unmap, no close.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto f = CrashRecordFile::create(path_);
    if (!f) ::_exit(1);
    (*f)->writer().write(record());
    (*f)->writer().set_last_advert(std::chrono::seconds(13));
    ::kill(::getpid(), SIGKILL);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  EXPECT_EQ(static_cast<std::size_t>(st.st_size), node::kCrashRecordSize);
  auto r = read_crash_record(path_);
  ASSERT_TRUE(r);
  ASSERT_TRUE(*r) << r->error();
  auto want = record();
  want.last_advert = std::chrono::seconds(13);
  EXPECT_EQ(**r, want);
}

TEST_F(CrashRecordFileTest, CreateEmptiesAnOldRecordAndRemoveDeletesIt) {
  {
    auto f = CrashRecordFile::create(path_);
    ASSERT_TRUE(f) << f.error();
    ASSERT_TRUE((*f)->writer().write(record()));
  }
  {
    // A new process opens it before it writes its own: nothing of the old one survives.
    auto f = CrashRecordFile::create(path_);
    ASSERT_TRUE(f);
    auto r = read_crash_record(path_);
    ASSERT_TRUE(r);
    ASSERT_FALSE(*r);
    EXPECT_EQ(r->error(), "not a crash record");
    (*f)->remove();
  }
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(CrashRecordFileTest, AnythingElseAtThePathIsUnreadableNotARecord) {
  std::ofstream(path_) << std::string(node::kCrashRecordSize + 1, 'x');
  auto big = read_crash_record(path_);
  ASSERT_TRUE(big);
  ASSERT_FALSE(*big);
  EXPECT_NE(big->error().find("larger than a crash record"), std::string::npos);
  std::filesystem::remove(path_);
  std::filesystem::create_directory(path_);
  auto dir = read_crash_record(path_);
  ASSERT_TRUE(dir);
  ASSERT_FALSE(*dir);
  std::filesystem::remove(path_);
  // A symlink is not followed (someone else's file is never read or truncated).
  std::filesystem::create_symlink(dir_ / "elsewhere", path_);
  auto link = read_crash_record(path_);
  ASSERT_TRUE(link);
  EXPECT_FALSE(*link);
  EXPECT_FALSE(CrashRecordFile::create(path_));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "elsewhere"));
}

TEST(CrashRecordClock, BoottimeMovesForward) {
  const auto a = boottime_now();
  const auto b = boottime_now();
  EXPECT_GT(a.count(), 0);
  EXPECT_GE(b, a);
}

}  // namespace
}  // namespace failoverd::daemon
