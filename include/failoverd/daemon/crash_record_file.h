// The crash record's file (node/crash_record.h) beside the control socket, in the runtime
// directory: /run is a tmpfs, so a record there is of this boot. The daemon maps it once at
// start and writes it through the mapping: the advert time costs one store, no system call.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "failoverd/core/timing.h"
#include "failoverd/node/crash_record.h"
#include "failoverd/util/expected.h"

namespace failoverd::daemon {

// Where the record of the instance whose control socket is `socket` goes.
std::string crash_record_path(const std::string& socket);

// CLOCK_BOOTTIME: it runs on while the machine is suspended, as the peer's timers do.
core::Time boottime_now();

// The record left at `path`: nullopt when there is no file, else the record or why the file
// is not one (unreadable, larger than a record, or what parse_crash_record says).
std::optional<util::Expected<node::CrashRecord, std::string>> read_crash_record(
    const std::string& path);

class CrashRecordFile {
 public:
  // Creates (or empties) the file with mode 0600 and maps it; the caller writes a record at
  // once. The reason when it cannot.
  static util::Expected<std::unique_ptr<CrashRecordFile>, std::string> create(
      const std::string& path);
  // Unmaps; the file stays, as it does when the process dies.
  ~CrashRecordFile();
  CrashRecordFile(const CrashRecordFile&) = delete;
  CrashRecordFile& operator=(const CrashRecordFile&) = delete;

  node::CrashRecordWriter& writer() { return writer_; }
  // A clean shutdown: the peer takes over, so there is nothing to resume.
  void remove();
  const std::string& path() const { return path_; }

 private:
  CrashRecordFile(std::string path, void* map);
  std::string path_;
  void* map_;
  node::CrashRecordWriter writer_;
};

}  // namespace failoverd::daemon
