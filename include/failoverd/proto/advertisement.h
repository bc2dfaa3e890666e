// The VRRPv3 advertisement (RFC 5798 §5.2, RFC 9568), IPv4 only. Encoding and decoding are
// total functions over bytes: any input gives a packet or a DecodeError, never a crash.
//
//   0                   1                   2                   3
//   |Version| Type  | Virtual Rtr ID|   Priority    |Count IPvX Addr|
//   |(rsvd) |     Max Adver Int     |          Checksum             |
//   |                       IPvX Address(es)                        |
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "failoverd/proto/drop_reason.h"
#include "failoverd/util/expected.h"
#include "failoverd/util/ipv4.h"

namespace failoverd::proto {

inline constexpr std::uint8_t kIpProtoVrrp = 112;
inline constexpr std::uint8_t kVrrpVersion = 3;
inline constexpr std::uint8_t kTypeAdvertisement = 1;
inline constexpr std::uint8_t kRequiredTtl = 255;
inline constexpr std::size_t kHeaderSize = 8;

// How the IPv4 checksum is computed. keepalived and FRR include the IPv4 pseudo-header with
// the packet's real destination (RFC 5798 §5.2.8); RFC 9568 and keepalived's
// v3_checksum_as_v2 leave it out, as VRRPv2 did.
enum class ChecksumMode : std::uint8_t { kPseudoHeader, kNoPseudoHeader };

struct Advertisement {
  std::uint8_t virtual_router_id = 0;
  std::uint8_t priority = 0;
  std::uint16_t max_adver_interval_cs = 0;  // 12 bits
  std::vector<util::Ipv4> addresses;        // at least one on the wire

  bool operator==(const Advertisement&) const = default;
};

// The IP-layer facts the receiver knows about a packet.
struct PacketInfo {
  util::Ipv4 source;
  util::Ipv4 destination;
  std::uint8_t ttl = 0;
};

// VRRP payload bytes (no IP header), with the checksum filled in for `src` -> `dst`.
// An advertisement with no addresses is sent with one 0.0.0.0 address, as the count must not
// be 0 on the wire.
std::vector<std::uint8_t> encode(const Advertisement& ad, util::Ipv4 src, util::Ipv4 dst,
                                 ChecksumMode mode);

// Validates version, type, length against the address count, and the checksum. TTL is checked
// (must be 255) only when `check_ttl` is set; VRID and source are the receiver's business.
util::Expected<Advertisement, DecodeError> decode(std::span<const std::uint8_t> vrrp,
                                                  const PacketInfo& info, ChecksumMode mode,
                                                  bool check_ttl = true);

// A whole IPv4 datagram as a raw socket delivers it.
struct Ipv4Datagram {
  PacketInfo info;
  std::uint8_t protocol = 0;
  std::span<const std::uint8_t> payload;  // points into the input
};
util::Expected<Ipv4Datagram, DecodeError> parse_ipv4(std::span<const std::uint8_t> packet);

// RFC 1071 Internet checksum over `data`, starting from a partial sum.
std::uint16_t internet_checksum(std::span<const std::uint8_t> data, std::uint32_t initial = 0);

}  // namespace failoverd::proto
