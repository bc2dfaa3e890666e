#include "failoverd/daemon/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <charconv>

namespace failoverd::daemon {

bool sd_notify(const std::string& message) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') return true;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::size_t len = std::strlen(path);
  if (len >= sizeof(addr.sun_path)) return false;
  std::memcpy(addr.sun_path, path, len);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  const ssize_t n = ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL,
                             reinterpret_cast<const sockaddr*>(&addr), addr_len);
  ::close(fd);
  return n == static_cast<ssize_t>(message.size());
}

namespace {

std::optional<std::uint64_t> parse_positive(const char* text) {
  if (text == nullptr) return std::nullopt;
  const std::string_view s(text);
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || v == 0) return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::chrono::microseconds> watchdog_interval(const char* usec, const char* pid,
                                                           pid_t self) {
  const auto interval = parse_positive(usec);
  if (!interval) return std::nullopt;
  // Cap at a day: systemd never asks for more, and the cast below must not overflow.
  if (*interval > 86'400'000'000ULL) return std::nullopt;
  if (pid != nullptr) {
    const auto p = parse_positive(pid);
    if (!p || *p != static_cast<std::uint64_t>(self)) return std::nullopt;
  }
  return std::chrono::microseconds(static_cast<std::int64_t>(*interval));
}

std::optional<std::chrono::microseconds> watchdog_interval() {
  return watchdog_interval(std::getenv("WATCHDOG_USEC"), std::getenv("WATCHDOG_PID"), ::getpid());
}

}  // namespace failoverd::daemon
