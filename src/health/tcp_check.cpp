#include "failoverd/health/tcp_check.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "failoverd/util/duration.h"

namespace failoverd::health {

namespace {

using Clock = std::chrono::steady_clock;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

struct Resolved {
  std::vector<sockaddr_storage> addresses;
  std::vector<socklen_t> lengths;
  std::string error;  // set when resolution failed
};

Resolved resolve_now(const std::string& host, std::uint16_t port, bool numeric_only) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (numeric_only ? AI_NUMERICHOST : 0);
  addrinfo* list = nullptr;
  Resolved out;
  const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &list);
  if (rc != 0) {
    out.error = rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc);
    return out;
  }
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    sockaddr_storage ss{};
    std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    out.addresses.push_back(ss);
    out.lengths.push_back(ai->ai_addrlen);
  }
  ::freeaddrinfo(list);
  return out;
}

// getaddrinfo() has no timeout, so a name is resolved on a detached thread and waited for
// until the deadline; a late answer is dropped by the thread itself.
std::optional<Resolved> resolve_until(const std::string& host, std::uint16_t port,
                                      Clock::time_point deadline) {
  Resolved literal = resolve_now(host, port, /*numeric_only=*/true);
  if (literal.error.empty()) return literal;

  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<Resolved> result;
  };
  auto shared = std::make_shared<Shared>();
  std::thread([shared, host, port] {
    Resolved r = resolve_now(host, port, false);
    std::lock_guard lock(shared->mu);
    shared->result = std::move(r);
    shared->cv.notify_all();
  }).detach();
  std::unique_lock lock(shared->mu);
  shared->cv.wait_until(lock, deadline, [&] { return shared->result.has_value(); });
  return shared->result;
}

std::string address_text(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(ntohs(sin->sin_port));
  }
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
  ::inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
  return "[" + std::string(buf) + "]:" + std::to_string(ntohs(sin6->sin6_port));
}

// 0 when connected, else the errno of the failure (ETIMEDOUT at the deadline).
int connect_until(const sockaddr_storage& ss, socklen_t len, Clock::time_point deadline) {
  Fd s;
  s.fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.fd < 0) return errno;
  if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&ss), len) == 0) return 0;
  if (errno != EINPROGRESS) return errno;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return ETIMEDOUT;
    pollfd p{s.fd, POLLOUT, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(left + 1));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return errno;
    if (rc == 0) continue;  // re-check the deadline
    int err = 0;
    socklen_t err_len = sizeof err;
    if (::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0) return errno;
    return err;
  }
}

}  // namespace

TcpCheck::TcpCheck(config::TcpCheckSpec spec, std::chrono::microseconds timeout)
    : spec_(std::move(spec)), timeout_(timeout) {}

CheckResult TcpCheck::run() {
  const auto start = Clock::now();
  const auto deadline = start + timeout_;
  const std::string target = spec_.address.to_string();
  CheckResult r;
  auto finish = [&](CheckResult&& res) {
    res.detail = one_line(res.detail, 400);
    res.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
    return std::move(res);
  };

  const auto resolved = resolve_until(spec_.address.host, spec_.address.port, deadline);
  if (!resolved) {
    r.detail = target + ": could not resolve the host within " + util::format_duration(timeout_);
    return finish(std::move(r));
  }
  if (!resolved->error.empty() || resolved->addresses.empty()) {
    r.detail = target + ": cannot resolve host: " + resolved->error;
    return finish(std::move(r));
  }
  std::string failures;
  for (std::size_t i = 0; i < resolved->addresses.size(); ++i) {
    const int err = connect_until(resolved->addresses[i], resolved->lengths[i], deadline);
    const std::string where = address_text(resolved->addresses[i]);
    if (err == 0) {
      r.ok = true;
      r.detail = "connected to " + where;
      return finish(std::move(r));
    }
    if (!failures.empty()) failures += "; ";
    failures += where + ": " +
                (err == ETIMEDOUT ? "no connection within " + util::format_duration(timeout_)
                                  : std::string(std::strerror(err)));
    if (Clock::now() >= deadline) break;
  }
  r.detail = failures;
  return finish(std::move(r));
}

}  // namespace failoverd::health
