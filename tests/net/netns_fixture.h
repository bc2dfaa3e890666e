// Two network namespaces joined by a veth pair, for tests that need real sockets without
// touching the host's network:
//
//   namespace a(): fo-a 10.251.77.1/24  <--veth-->  namespace b(): fo-b 10.251.77.2/24
//
// Names carry the pid and a counter, so parallel test processes never collide. The
// destructor deletes both namespaces (which removes the veth pair), also after a failure.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include "failoverd/util/unique_fd.h"
#include "failoverd/util/ipv4.h"

namespace failoverd::testing {

// Runs a shell command; returns its exit status and combined output.
inline std::pair<int, std::string> run_command(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buf[256];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) output += buf;
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// Throws with the command and its output when it fails.
inline void must_run(const std::string& command) {
  auto [status, output] = run_command(command);
  if (status != 0) {
    throw std::runtime_error("`" + command + "` failed (" + std::to_string(status) + "): " +
                             output);
  }
}

// Runs f() on a thread that has entered the network namespace `ns` and returns its result.
// Sockets made there stay in that namespace and can be used from any thread afterwards.
// Exceptions thrown by f propagate to the caller.
template <typename F>
auto run_in_netns(const std::string& ns, F&& f) -> std::invoke_result_t<F&> {
  using R = std::invoke_result_t<F&>;
  std::conditional_t<std::is_void_v<R>, bool, std::optional<R>> result{};
  std::exception_ptr error;
  std::thread worker([&] {
    try {
      util::UniqueFd handle(::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC));
      if (!handle.valid()) throw std::runtime_error("open /run/netns/" + ns + " failed");
      if (::setns(handle.get(), CLONE_NEWNET) != 0) {
        throw std::runtime_error("setns " + ns + " failed");
      }
      if constexpr (std::is_void_v<R>) {
        f();
      } else {
        result.emplace(f());
      }
    } catch (...) {
      error = std::current_exception();
    }
  });
  worker.join();
  if (error) std::rethrow_exception(error);
  if constexpr (!std::is_void_v<R>) return std::move(*result);
}

class NetnsPair {
 public:
  static constexpr const char* kIfA = "fo-a";
  static constexpr const char* kIfB = "fo-b";
  static constexpr util::Ipv4 kAddrA = util::Ipv4::from_octets(10, 251, 77, 1);
  static constexpr util::Ipv4 kAddrB = util::Ipv4::from_octets(10, 251, 77, 2);

  // Why namespaces cannot be made here, or nullopt when they can.
  static std::optional<std::string> unavailable_reason() {
    if (::geteuid() != 0) return "needs root (network namespaces); run as root to test";
    // CAP_NET_ADMIN (12) makes namespaces and links, CAP_NET_RAW (13) opens raw sockets.
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("CapEff:", 0) != 0) continue;
      const unsigned long long caps = std::stoull(line.substr(7), nullptr, 16);
      if ((caps & (1ULL << 12)) == 0) return "needs CAP_NET_ADMIN for network namespaces";
      if ((caps & (1ULL << 13)) == 0) return "needs CAP_NET_RAW for raw sockets";
    }
    if (run_command("ip -V").first != 0) return "needs the `ip` command (iproute2)";
    return std::nullopt;
  }

  // Throws (after removing whatever it made) when setup fails.
  NetnsPair() {
    static std::atomic<int> counter{0};
    const std::string base =
        "fo-net-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    a_ = base + "-a";
    b_ = base + "-b";
    try {
      must_run("ip netns add " + a_);
      created_a_ = true;
      must_run("ip netns add " + b_);
      created_b_ = true;
      must_run("ip -n " + a_ + " link add " + kIfA + " type veth peer name " + kIfB +
               " netns " + b_);
      must_run("ip -n " + a_ + " addr add " + kAddrA.to_string() + "/24 dev " + kIfA);
      must_run("ip -n " + b_ + " addr add " + kAddrB.to_string() + "/24 dev " + kIfB);
      for (const auto& [ns, ifname] : {std::pair{a_, kIfA}, std::pair{b_, kIfB}}) {
        must_run("ip -n " + ns + " link set lo up");
        must_run("ip -n " + ns + " link set " + ifname + " up");
      }
      wait_until_up(a_, kIfA);
      wait_until_up(b_, kIfB);
    } catch (...) {
      cleanup();
      throw;
    }
  }
  ~NetnsPair() { cleanup(); }
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;

  const std::string& a() const { return a_; }
  const std::string& b() const { return b_; }

  template <typename F>
  auto in_a(F&& f) { return run_in_netns(a_, std::forward<F>(f)); }
  template <typename F>
  auto in_b(F&& f) { return run_in_netns(b_, std::forward<F>(f)); }

  // The veth carrier comes up asynchronously (the link reads UP in a dump some time after
  // `ip link set up`); sending or reading link state earlier would see it down.
  static void wait_until_up(const std::string& ns, const std::string& ifname) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      auto [status, output] = run_command("ip -n " + ns + " -o link show dev " + ifname);
      if (status == 0 && output.find("LOWER_UP") != std::string::npos &&
          output.find("state UP") != std::string::npos) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error(ifname + " in " + ns + " did not come up within 5s");
  }

 private:
  void cleanup() {
    if (created_b_) run_command("ip netns del " + b_);
    if (created_a_) run_command("ip netns del " + a_);
    created_a_ = created_b_ = false;
  }

  std::string a_, b_;
  bool created_a_ = false;
  bool created_b_ = false;
};

// gtest fixture: skips when namespaces are unavailable, otherwise provides `net()`.
class NetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = NetnsPair::unavailable_reason()) GTEST_SKIP() << *why;
    pair_.emplace();
  }
  void TearDown() override { pair_.reset(); }
  NetnsPair& net() { return *pair_; }

 private:
  std::optional<NetnsPair> pair_;
};

}  // namespace failoverd::testing
