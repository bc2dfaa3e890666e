// Small POSIX socket helpers and the send/receive steps shared by the transports (private to
// the net module).
#pragma once

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "failoverd/net/transport.h"
#include "failoverd/proto/advertisement.h"
#include "failoverd/proto/drop_reason.h"
#include "failoverd/util/expected.h"
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

// Transport::send(): sends bytes_for(target) to target:port for each target other than
// `source`, without blocking. Keeps going after a failure; the error names each failed target:
// "sendto 10.0.0.2: <strerror>", joined by "; ".
util::Expected<util::Ok, std::string> send_each(
    int fd, std::span<const util::Ipv4> targets, util::Ipv4 source, std::uint16_t port,
    const std::function<std::vector<std::uint8_t>(util::Ipv4 target)>& bytes_for);

// The steps of Transport::receive() both transports take. Each failure is counted in `drops`
// and returned as the receive() result.
using ReceiveResult = util::Expected<Received, proto::DecodeError>;

// Counts a drop and returns it as a failed receive().
util::Unexpected<proto::DecodeError> reject(proto::DropCounters& drops, proto::DropReason reason,
                                            std::string detail);

// A datagram larger than the buffer (`capacity` bytes) is kTruncated.
util::Expected<util::Ok, proto::DecodeError> check_complete(const Datagram& d,
                                                            std::size_t capacity,
                                                            proto::DropCounters& drops);

// Our own packet coming back is kOwnPacket; one from outside config.peers (when there are any)
// is kUnknownPeer.
util::Expected<util::Ok, proto::DecodeError> check_source(const TransportConfig& config,
                                                          util::Ipv4 source,
                                                          proto::DropCounters& drops);

// The last step: decodes the VRRP bytes (TTL 255 required) and checks the virtual router id.
ReceiveResult decode_advert(const TransportConfig& config, std::span<const std::uint8_t> vrrp,
                            const proto::PacketInfo& info, proto::DropCounters& drops);

}  // namespace failoverd::net::detail
