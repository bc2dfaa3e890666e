#include "failoverd/daemon/crash_record_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <span>
#include <vector>

#include "failoverd/util/read_fd.h"

namespace failoverd::daemon {

namespace {

std::string errno_text() {
  return std::strerror(errno);
}

}  // namespace

std::string crash_record_path(const std::string& socket) {
  return socket + ".crash";
}

core::Time boottime_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return std::chrono::duration_cast<core::Time>(std::chrono::seconds(ts.tv_sec) +
                                                std::chrono::nanoseconds(ts.tv_nsec));
}

std::optional<util::Expected<node::CrashRecord, std::string>> read_crash_record(
    const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    return util::unexpected("cannot open " + path + ": " + errno_text());
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return util::unexpected(path + " is not a regular file");
  }
  // One byte more than a record at most: a larger file is not one.
  const auto text = util::read_up_to(fd, node::kCrashRecordSize);
  ::close(fd);
  if (!text) return util::unexpected("cannot read " + path + ": " + std::strerror(text.error()));
  if (text->size() > node::kCrashRecordSize) {
    return util::unexpected(path + " is larger than a crash record");
  }
  return node::parse_crash_record(std::as_bytes(std::span(text->data(), text->size())));
}

util::Expected<std::unique_ptr<CrashRecordFile>, std::string> CrashRecordFile::create(
    const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return util::unexpected("cannot create " + path + ": " + errno_text());
  // Emptied first: nothing of an earlier record may survive into this one.
  if (::fchmod(fd, 0600) != 0 || ::ftruncate(fd, 0) != 0 ||
      ::ftruncate(fd, static_cast<off_t>(node::kCrashRecordSize)) != 0) {
    const std::string why = errno_text();
    ::close(fd);
    return util::unexpected("cannot size " + path + ": " + why);
  }
  void* map = ::mmap(nullptr, node::kCrashRecordSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const std::string why = errno_text();
  ::close(fd);  // the mapping keeps the file
  if (map == MAP_FAILED) return util::unexpected("cannot map " + path + ": " + why);
  return std::unique_ptr<CrashRecordFile>(new CrashRecordFile(path, map));
}

CrashRecordFile::CrashRecordFile(std::string path, void* map)
    : path_(std::move(path)),
      map_(map),
      writer_(std::span<std::byte>(static_cast<std::byte*>(map), node::kCrashRecordSize)) {}

CrashRecordFile::~CrashRecordFile() {
  ::munmap(map_, node::kCrashRecordSize);
}

void CrashRecordFile::remove() {
  writer_.set_master(false);  // should the unlink fail, the record says so still
  ::unlink(path_.c_str());
}

}  // namespace failoverd::daemon
