// Why a received packet was not accepted. Every drop is counted under one of these, and the
// names are stable: they are metric labels and status keys.
#pragma once

#include <array>
#include <cstddef>
#include <string>

namespace failoverd::proto {

enum class DropReason : unsigned char {
  kTruncated,         // shorter than the headers it claims
  kBadIpHeader,       // IPv4 header malformed (version, IHL, total length)
  kNotVrrp,           // IP protocol is not 112
  kBadVersion,        // VRRP version is not 3
  kBadType,           // VRRP type is not 1 (ADVERTISEMENT)
  kBadLength,         // length does not match the address count
  kNoAddresses,       // address count is 0
  kBadChecksum,
  kBadTtl,            // TTL is not 255
  kWrongVrid,         // another virtual router on the same link: not an error, still counted
  kUnknownPeer,       // source is not a configured peer
  kOwnPacket,         // our own advert looped back
  kBadAuth,           // udp transport: missing or wrong HMAC
  kReplay,            // udp transport: sequence number not newer than the last accepted
  kCount_,
};

inline constexpr std::size_t kDropReasonCount = static_cast<std::size_t>(DropReason::kCount_);

// snake_case name, e.g. "bad_checksum".
const char* to_string(DropReason r);

struct DecodeError {
  DropReason reason;
  std::string detail;  // one sentence: "TTL is 64, must be 255"
};

using DropCounters = std::array<unsigned long long, kDropReasonCount>;

}  // namespace failoverd::proto
