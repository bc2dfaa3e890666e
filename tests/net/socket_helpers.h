// Helpers for transport tests: waiting for a datagram, and plain sockets that send what a
// well-behaved transport never would (wrong TTL, garbage, replays).
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <numeric>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "failoverd/net/transport.h"
#include "failoverd/util/unique_fd.h"
#include "failoverd/proto/drop_reason.h"
#include "failoverd/util/ipv4.h"

namespace failoverd::testing {

using ReceiveResult = util::Expected<net::Received, proto::DecodeError>;

// Waits (poll on fd()) until receive() yields something, or the timeout passes.
inline std::optional<ReceiveResult> wait_receive(
    net::Transport& t, std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (auto r = t.receive()) return r;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{t.fd(), POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(left.count()));
  }
}

inline unsigned long long count(const proto::DropCounters& drops, proto::DropReason reason) {
  return drops[static_cast<std::size_t>(reason)];
}

inline unsigned long long total(const proto::DropCounters& drops) {
  return std::accumulate(drops.begin(), drops.end(), 0ULL);
}

inline sockaddr_in sockaddr_of(util::Ipv4 address, std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = address.network_order();
  return sa;
}

// A plain socket bound to `local` (port 0 = any) with the given unicast TTL. Call inside a
// namespace. type is SOCK_DGRAM (udp) or SOCK_RAW (IP protocol 112, kernel-built header).
inline util::UniqueFd plain_socket(int type, util::Ipv4 local, std::uint16_t port, int ttl) {
  util::UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, type == SOCK_RAW ? 112 : 0));
  if (!fd.valid()) throw std::runtime_error("socket failed");
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::setsockopt(fd.get(), IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) != 0) {
    throw std::runtime_error("IP_TTL failed");
  }
  sockaddr_in sa = sockaddr_of(local, port);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    throw std::runtime_error("bind " + local.to_string() + " failed");
  }
  return fd;
}

inline void send_bytes(int fd, std::span<const std::uint8_t> bytes, util::Ipv4 to,
                       std::uint16_t port) {
  sockaddr_in sa = sockaddr_of(to, port);
  if (::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&sa),
               sizeof sa) != static_cast<ssize_t>(bytes.size())) {
    throw std::runtime_error("sendto " + to.to_string() + " failed");
  }
}

// Blocking read of one datagram with a timeout; empty when none arrived.
inline std::vector<std::uint8_t> read_datagram(
    int fd, std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return {};
  std::vector<std::uint8_t> buf(65536);
  ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
  if (n < 0) return {};
  buf.resize(static_cast<std::size_t>(n));
  return buf;
}

}  // namespace failoverd::testing
