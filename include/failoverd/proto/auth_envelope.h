// The udp transport's envelope: the VRRP advertisement bytes, then a trailer that
// authenticates them and carries a sequence number against replays.
//
//   | VRRP advertisement | magic "FOv1" (4) | sequence (8, big-endian) | HMAC-SHA256 (32) |
//
// The HMAC covers everything before it. The sequence must grow strictly per sender; senders
// seed it from the wall clock in microseconds so that it keeps growing across restarts.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "failoverd/proto/drop_reason.h"
#include "failoverd/util/expected.h"
#include "failoverd/util/ipv4.h"

namespace failoverd::proto {

inline constexpr std::size_t kTrailerSize = 4 + 8 + 32;
inline constexpr std::size_t kMinKeySize = 16;
// The udp transport's port when the config names none (RFC 5798's number, as a UDP port).
inline constexpr std::uint16_t kDefaultUdpPort = 5798;

struct Opened {
  std::span<const std::uint8_t> vrrp;  // points into the input
  std::uint64_t sequence;
};

class Authenticator {
 public:
  // REQUIRES: key.size() >= kMinKeySize (throws std::invalid_argument otherwise).
  explicit Authenticator(std::vector<std::uint8_t> key);

  std::vector<std::uint8_t> seal(std::span<const std::uint8_t> vrrp, std::uint64_t sequence) const;
  // kTruncated, or kBadAuth for a wrong magic or MAC (compared in constant time).
  util::Expected<Opened, DecodeError> open(std::span<const std::uint8_t> datagram) const;

 private:
  std::vector<std::uint8_t> key_;
};

// Accepts a sequence number from a peer only if it is greater than the last one accepted
// from that peer. Call it only after open() succeeded and the peer is a configured one, so
// that forged datagrams can neither advance the sequence nor grow the map.
class ReplayGuard {
 public:
  bool accept(util::Ipv4 peer, std::uint64_t sequence);

 private:
  std::map<util::Ipv4, std::uint64_t> last_;
};

}  // namespace failoverd::proto
