// The VRRPv3 decoder (src/proto/advertisement.cpp): every advert a raw socket on the heartbeat
// interface delivers, from anyone on that link.
//
// Input: one flags byte, then either a whole IPv4 datagram (flags bit 2: as the vrrp
// transport's raw socket delivers it) or 9 bytes of IP facts (source, destination, TTL) and
// the VRRP payload. Flags bit 0: checksum mode (0 = pseudo-header), bit 1: check the TTL.
//
// Contract: parse_ipv4 and decode are total (a value, or an error with a reason and a
// sentence). An accepted datagram's payload lies inside it and is exactly its total length
// less its header. An accepted advert has 1..255 addresses matching the count byte, a 12-bit
// interval, and re-encodes to the same bytes (the reserved bits are sent as 0, and 0x0000 and
// 0xffff are the same checksum); the re-encoding decodes to the same advert.
#include <cstring>
#include <span>
#include <string>

#include "failoverd/proto/advertisement.h"
#include "fuzz_support.h"

namespace proto = failoverd::proto;
using failoverd::util::Ipv4;

namespace {

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

std::string hex(std::span<const std::uint8_t> b) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (auto c : b) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

void check_error(const proto::DecodeError& e) {
  FUZZ_CHECK(!e.detail.empty(), proto::to_string(e.reason));
  FUZZ_CHECK(proto::to_string(e.reason) != nullptr && *proto::to_string(e.reason) != '\0', e.detail);
}

void check_advert(std::span<const std::uint8_t> vrrp, const proto::PacketInfo& info,
                  proto::ChecksumMode mode, bool check_ttl) {
  const auto ad = proto::decode(vrrp, info, mode, check_ttl);
  if (!ad) {
    check_error(ad.error());
    return;
  }
  FUZZ_CHECK(vrrp.size() >= proto::kHeaderSize, hex(vrrp));
  FUZZ_CHECK(!ad->addresses.empty() && ad->addresses.size() <= 255, hex(vrrp));
  FUZZ_CHECK(ad->addresses.size() == vrrp[3], hex(vrrp));
  FUZZ_CHECK(ad->max_adver_interval_cs <= 0x0FFF, hex(vrrp));
  FUZZ_CHECK(!check_ttl || info.ttl == proto::kRequiredTtl, hex(vrrp));

  const auto bytes = proto::encode(*ad, info.source, info.destination, mode);
  FUZZ_CHECK(bytes.size() == vrrp.size(), hex(vrrp) + " -> " + hex(bytes));
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 6 || i == 7) continue;
    const std::uint8_t want = i == 4 ? (vrrp[i] & 0x0F) : vrrp[i];
    FUZZ_CHECK(bytes[i] == want, hex(vrrp) + " -> " + hex(bytes));
  }
  if ((vrrp[4] & 0xF0) == 0) {
    const unsigned in = (unsigned{vrrp[6]} << 8) | vrrp[7];
    const unsigned out = (unsigned{bytes[6]} << 8) | bytes[7];
    FUZZ_CHECK(in == out || (in | out) == 0xFFFF, hex(vrrp) + " -> " + hex(bytes));
  }
  const auto again = proto::decode(bytes, info, mode, check_ttl);
  FUZZ_CHECK(again.has_value(), hex(bytes) + ": " + again.error().detail);
  FUZZ_CHECK(*again == *ad, hex(bytes));
}

void run(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return;
  const std::uint8_t flags = data[0];
  const auto mode = (flags & 1) ? proto::ChecksumMode::kNoPseudoHeader
                                : proto::ChecksumMode::kPseudoHeader;
  const bool check_ttl = (flags & 2) != 0;
  std::span<const std::uint8_t> rest(data + 1, size - 1);

  if (flags & 4) {
    const auto d = proto::parse_ipv4(rest);
    if (!d) {
      check_error(d.error());
      return;
    }
    FUZZ_CHECK(rest.size() >= 20, hex(rest));
    const std::size_t header = std::size_t{rest[0] & 0x0Fu} * 4;
    const std::size_t total = (std::size_t{rest[2]} << 8) | rest[3];
    FUZZ_CHECK(d->payload.size() == total - header, hex(rest));
    FUZZ_CHECK(d->payload.data() == rest.data() + header, hex(rest));
    FUZZ_CHECK(d->info.ttl == rest[8] && d->protocol == rest[9], hex(rest));
    FUZZ_CHECK(d->info.source.value == be32(rest.data() + 12), hex(rest));
    FUZZ_CHECK(d->info.destination.value == be32(rest.data() + 16), hex(rest));
    check_advert(d->payload, d->info, mode, check_ttl);
    return;
  }
  if (rest.size() < 9) return;
  proto::PacketInfo info;
  info.source = Ipv4{be32(rest.data())};
  info.destination = Ipv4{be32(rest.data() + 4)};
  info.ttl = rest[8];
  check_advert(rest.subspan(9), info, mode, check_ttl);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FUZZ_GUARD(run(data, size));
  return 0;
}
