// Heartbeat transports: how advertisements leave and reach this host. Two real ones (raw IP
// protocol 112 as keepalived speaks it, and UDP with an HMAC envelope for networks that drop
// protocol 112) behind one small interface: the daemon builds the one the config names and a
// reload can swap it.
//
// The transports know nothing about event loops: the daemon watches fd() for readability and
// then calls receive() until it returns nullopt.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "failoverd/proto/advertisement.h"
#include "failoverd/proto/auth_envelope.h"
#include "failoverd/proto/drop_reason.h"
#include "failoverd/util/expected.h"
#include "failoverd/util/ipv4.h"

namespace failoverd::net {

struct TransportConfig {
  std::string interface;            // heartbeat interface (SO_BINDTODEVICE); required
  util::Ipv4 source;                // our address: IP source and checksum pseudo-header source
  std::vector<util::Ipv4> peers;    // unicast targets; empty = multicast 224.0.0.18 (vrrp only)
  std::uint8_t virtual_router_id = 0;
  proto::ChecksumMode checksum_mode = proto::ChecksumMode::kPseudoHeader;
  std::uint16_t port = proto::kDefaultUdpPort;  // udp only
  std::vector<std::uint8_t> auth_key;    // udp only; at least proto::kMinKeySize bytes
};

struct Received {
  util::Ipv4 source;  // IP source of the packet: the sender's primary address
  proto::Advertisement advert;
};

class Transport {
 public:
  virtual ~Transport();

  // Readable when a datagram may be pending. Owned by the transport.
  virtual int fd() const = 0;

  // Sends one advertisement to every peer (a peer equal to our own source is skipped, so both
  // hosts can share one peer list), or to 224.0.0.18 when there are no peers. Keeps going
  // after a failed peer; the error text names each failure, e.g.
  // "sendto 10.0.0.2: Network is unreachable". Never throws.
  virtual util::Expected<util::Ok, std::string> send(const proto::Advertisement& ad) = 0;

  // Non-blocking: reads ONE pending datagram; nullopt when nothing is pending. A datagram that
  // is not acceptable is counted in drops() and returned as its DecodeError.
  virtual std::optional<util::Expected<Received, proto::DecodeError>> receive() = 0;

  // Every dropped datagram, by reason, since the transport was made.
  virtual const proto::DropCounters& drops() const = 0;
};

// Raw IP protocol 112 socket (needs CAP_NET_RAW). Throws std::runtime_error naming the step
// that failed ("vrrp transport on eth1: SO_BINDTODEVICE: No such device").
std::unique_ptr<Transport> make_vrrp_transport(const TransportConfig& config);

// UDP socket on source:port with the authenticated envelope of proto/auth_envelope.h.
// Requires at least one peer and a key of proto::kMinKeySize bytes or more; throws
// std::runtime_error with a clear message otherwise or when the socket setup fails.
std::unique_ptr<Transport> make_udp_transport(const TransportConfig& config);

// The first IPv4 address configured on `ifname`, the default for TransportConfig::source.
util::Expected<util::Ipv4, std::string> first_ipv4_address(const std::string& ifname);

}  // namespace failoverd::net
