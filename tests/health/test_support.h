// Helpers shared by the health tests.
#pragma once

#include <stdlib.h>
#include <time.h>

#include <filesystem>
#include <string>

namespace failoverd::health {

// The podman listing of tests/data (4 running containers, 3 labelled project=labproj).
std::string podman_body();
// A listing of `containers` running containers, each labelled com.docker.compose.project=web.
std::string body_with(int containers);

namespace testing {

// A fresh directory under /tmp, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/fod-health-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

}  // namespace testing
}  // namespace failoverd::health
