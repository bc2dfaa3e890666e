// Small POSIX socket helpers shared by the transports (private to the net module).
#pragma once

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "failoverd/proto/drop_reason.h"
#include "failoverd/util/ipv4.h"

namespace failoverd::net::detail {

// strerror(err), thread-safe.
std::string errno_text(int err);

// Throws std::runtime_error("<context>: <step>: <strerror(err)>").
[[noreturn]] void throw_errno(const std::string& context, const std::string& step, int err);

// setsockopt or throw, naming the option.
void set_int_option(int fd, int level, int name, int value, const std::string& context,
                    const char* step);

// SO_BINDTODEVICE or throw; also rejects empty and over-long names.
void bind_to_device(int fd, const std::string& ifname, const std::string& context);

// The interface index of `ifname`, or throw.
unsigned interface_index(const std::string& ifname, const std::string& context);

sockaddr_in to_sockaddr(util::Ipv4 address, std::uint16_t port);

// What recvmsg told us about one datagram.
struct Datagram {
  std::size_t size = 0;  // bytes in the buffer
  bool truncated = false;  // the datagram was larger than the buffer
  util::Ipv4 source;
  std::optional<util::Ipv4> destination;  // from IP_PKTINFO, when enabled
  std::optional<int> ttl;                 // from IP_RECVTTL, when enabled
};

// Reads one datagram without blocking into `buffer`. nullopt when nothing is pending. Errors
// that belong to the socket rather than a datagram (e.g. a queued ICMP error) are consumed
// and the next datagram is read instead.
std::optional<Datagram> receive_datagram(int fd, std::span<std::uint8_t> buffer);

// Counts a drop and returns the error to hand to the caller.
proto::DecodeError drop(proto::DropCounters& counters, proto::DropReason reason,
                        std::string detail);

// "sendto 10.0.0.2: <strerror>" for each failed target, joined by "; ".
void append_error(std::string& errors, util::Ipv4 target, int err);

bool contains(const std::vector<util::Ipv4>& peers, util::Ipv4 address);

}  // namespace failoverd::net::detail
