// Helpers shared by the health tests.
#pragma once

#include <sched.h>
#include <thread>
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

// Runs f() on a thread that first moves into a new, empty network namespace (no interfaces
// up, no routes): a name lookup there fails at once, without a DNS query leaving the machine.
// Threads f() starts (curl's resolver, the tcp check's) inherit the namespace. Returns false,
// without running f, when the namespace cannot be made (not root).
template <typename F>
bool in_empty_netns(F&& f) {
  bool entered = false;
  std::thread t([&] {
    if (::unshare(CLONE_NEWNET) != 0) return;
    entered = true;
    f();
  });
  t.join();
  return entered;
}

}  // namespace failoverd::health
