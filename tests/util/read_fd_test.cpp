#include "failoverd/util/read_fd.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace failoverd::util {
namespace {

// An in-memory file holding `text`, its offset at the start.
int file_with(const std::string& text) {
  const int fd = ::memfd_create("read_fd_test", MFD_CLOEXEC);
  if (fd < 0) return -1;
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      ::lseek(fd, 0, SEEK_SET) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST(ReadUpTo, ReadsAllOfAShortInput) {
  const int fd = file_with("hello");
  ASSERT_GE(fd, 0);
  const auto got = read_up_to(fd, 100);
  ::close(fd);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, "hello");
}

TEST(ReadUpTo, ExactlyTheLimitIsNotTooLarge) {
  const std::string text(10000, 'x');  // more than the first buffer: it grows
  const int fd = file_with(text);
  ASSERT_GE(fd, 0);
  const auto got = read_up_to(fd, text.size(), /*wipe=*/true);
  ::close(fd);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, text);
}

TEST(ReadUpTo, StopsOneBytePastTheLimit) {
  const int fd = file_with(std::string(1 << 20, 'y'));
  ASSERT_GE(fd, 0);
  const auto got = read_up_to(fd, 5000);
  const off_t where = ::lseek(fd, 0, SEEK_CUR);
  ::close(fd);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, std::string(5001, 'y'));
  EXPECT_EQ(where, 5001) << "it read past the limit";
}

TEST(ReadUpTo, AnEmptyInputIsEmpty) {
  const int fd = file_with("");
  ASSERT_GE(fd, 0);
  const auto got = read_up_to(fd, 0);
  ::close(fd);
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->empty());
}

TEST(ReadUpTo, AnErrorIsItsErrno) {
  const auto got = read_up_to(-1, 10);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error(), EBADF);
}

}  // namespace
}  // namespace failoverd::util
