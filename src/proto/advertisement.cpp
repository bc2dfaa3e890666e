#include "failoverd/proto/advertisement.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace failoverd::proto {
namespace {

constexpr std::size_t kAddressSize = 4;
constexpr std::size_t kMaxAddresses = 255;        // the count field is 8 bits
constexpr std::uint16_t kMaxInterval = 0x0FFF;    // 12 bits
constexpr std::size_t kIpv4MinHeader = 20;

std::uint16_t read_u16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

std::uint32_t read_u32(std::span<const std::uint8_t> b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
         (std::uint32_t{b[at + 2]} << 8) | std::uint32_t{b[at + 3]};
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 24));
  out.push_back(static_cast<std::uint8_t>(v >> 16));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

std::string hex16(std::uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", static_cast<unsigned>(v));
  return buf;
}

util::Unexpected<DecodeError> fail(DropReason reason, std::string detail) {
  return util::unexpected(DecodeError{reason, std::move(detail)});
}

// Partial (unfolded) sum of the IPv4 pseudo-header of RFC 5798 §5.2.8.
std::uint32_t pseudo_header_sum(util::Ipv4 src, util::Ipv4 dst, std::size_t vrrp_length) {
  std::uint32_t sum = 0;
  sum += src.value >> 16;
  sum += src.value & 0xFFFF;
  sum += dst.value >> 16;
  sum += dst.value & 0xFFFF;
  sum += kIpProtoVrrp;  // zero byte, then the protocol byte
  sum += static_cast<std::uint32_t>(vrrp_length & 0xFFFF);
  return sum;
}

// The checksum the sender should have put in `vrrp`, computed with the checksum field as 0.
std::uint16_t expected_checksum(std::span<const std::uint8_t> vrrp, util::Ipv4 src,
                                util::Ipv4 dst, ChecksumMode mode) {
  std::uint32_t initial =
      mode == ChecksumMode::kPseudoHeader ? pseudo_header_sum(src, dst, vrrp.size()) : 0;
  // Bytes 6..7 are the checksum itself: sum the rest around them.
  const std::uint32_t head = internet_checksum(vrrp.first(6), initial);
  // internet_checksum returns the complement; undo it to keep a partial sum.
  const std::uint32_t partial = static_cast<std::uint16_t>(~head);
  return internet_checksum(vrrp.subspan(8), partial);
}

}  // namespace

std::uint16_t internet_checksum(std::span<const std::uint8_t> data, std::uint32_t initial) {
  std::uint64_t sum = initial;
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2) sum += (std::uint32_t{data[i]} << 8) | data[i + 1];
  if (i < data.size()) sum += std::uint32_t{data[i]} << 8;  // odd length: pad with a zero byte
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xFFFF);
}

std::vector<std::uint8_t> encode(const Advertisement& ad, util::Ipv4 src, util::Ipv4 dst,
                                 ChecksumMode mode) {
  // Out-of-range fields are clamped rather than wrapped: an interval of 4096 cs must not go
  // out as 0. Config validation keeps real values in range.
  const std::size_t count = std::clamp<std::size_t>(ad.addresses.size(), 1, kMaxAddresses);
  const std::uint16_t interval = std::min(ad.max_adver_interval_cs, kMaxInterval);

  std::vector<std::uint8_t> out;
  out.reserve(kHeaderSize + kAddressSize * count);
  out.push_back(static_cast<std::uint8_t>((kVrrpVersion << 4) | kTypeAdvertisement));
  out.push_back(ad.virtual_router_id);
  out.push_back(ad.priority);
  out.push_back(static_cast<std::uint8_t>(count));
  out.push_back(static_cast<std::uint8_t>(interval >> 8));  // upper 4 bits reserved, sent as 0
  out.push_back(static_cast<std::uint8_t>(interval & 0xFF));
  out.push_back(0);
  out.push_back(0);
  if (ad.addresses.empty()) {
    put_u32(out, 0);
  } else {
    for (std::size_t i = 0; i < count; ++i) put_u32(out, ad.addresses[i].value);
  }
  const std::uint16_t sum = internet_checksum(
      out, mode == ChecksumMode::kPseudoHeader ? pseudo_header_sum(src, dst, out.size()) : 0);
  out[6] = static_cast<std::uint8_t>(sum >> 8);
  out[7] = static_cast<std::uint8_t>(sum & 0xFF);
  return out;
}

util::Expected<Advertisement, DecodeError> decode(std::span<const std::uint8_t> vrrp,
                                                  const PacketInfo& info, ChecksumMode mode,
                                                  bool check_ttl) {
  if (vrrp.size() < kHeaderSize) {
    return fail(DropReason::kTruncated, "VRRP packet is " + std::to_string(vrrp.size()) +
                                            " bytes, shorter than the 8-byte header");
  }
  const unsigned version = vrrp[0] >> 4;
  if (version != kVrrpVersion) {
    return fail(DropReason::kBadVersion, "version is " + std::to_string(version) + ", must be 3");
  }
  const unsigned type = vrrp[0] & 0x0F;
  if (type != kTypeAdvertisement) {
    return fail(DropReason::kBadType,
                "type is " + std::to_string(type) + ", must be 1 (advertisement)");
  }
  const std::size_t count = vrrp[3];
  if (count == 0) return fail(DropReason::kNoAddresses, "address count is 0");
  if (vrrp.size() != kHeaderSize + kAddressSize * count) {
    return fail(DropReason::kBadLength, "length " + std::to_string(vrrp.size()) +
                                            " does not fit " + std::to_string(count) +
                                            " address(es)");
  }
  const std::uint16_t received = read_u16(vrrp, 6);
  const std::uint32_t initial = mode == ChecksumMode::kPseudoHeader
                                    ? pseudo_header_sum(info.source, info.destination, vrrp.size())
                                    : 0;
  // Summing the message with its checksum gives 0 when it is right; this accepts both
  // one's-complement zeros (0x0000 and 0xffff) as RFC 1071 allows.
  if (internet_checksum(vrrp, initial) != 0) {
    const std::uint16_t want = expected_checksum(vrrp, info.source, info.destination, mode);
    return fail(DropReason::kBadChecksum,
                "checksum " + hex16(received) + " does not match " + hex16(want) +
                    (mode == ChecksumMode::kPseudoHeader ? " (pseudo-header mode)"
                                                         : " (no-pseudo-header mode)"));
  }
  if (check_ttl && info.ttl != kRequiredTtl) {
    return fail(DropReason::kBadTtl, "TTL is " + std::to_string(info.ttl) + ", must be 255");
  }

  Advertisement ad;
  ad.virtual_router_id = vrrp[1];
  ad.priority = vrrp[2];
  ad.max_adver_interval_cs = read_u16(vrrp, 4) & kMaxInterval;  // reserved bits ignored
  ad.addresses.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    ad.addresses.push_back(util::Ipv4{read_u32(vrrp, kHeaderSize + kAddressSize * i)});
  }
  return ad;
}

util::Expected<Ipv4Datagram, DecodeError> parse_ipv4(std::span<const std::uint8_t> packet) {
  if (packet.size() < kIpv4MinHeader) {
    return fail(DropReason::kTruncated, "IPv4 packet is " + std::to_string(packet.size()) +
                                            " bytes, shorter than the 20-byte header");
  }
  const unsigned version = packet[0] >> 4;
  if (version != 4) {
    return fail(DropReason::kBadIpHeader, "IP version is " + std::to_string(version) +
                                              ", must be 4");
  }
  const std::size_t header_len = std::size_t{packet[0] & 0x0Fu} * 4;
  if (header_len < kIpv4MinHeader) {
    return fail(DropReason::kBadIpHeader, "IPv4 header length is " + std::to_string(header_len) +
                                              " bytes, must be at least 20");
  }
  const std::size_t total_len = read_u16(packet, 2);
  if (total_len < header_len) {
    return fail(DropReason::kBadIpHeader, "IPv4 total length " + std::to_string(total_len) +
                                              " is less than the header length " +
                                              std::to_string(header_len));
  }
  if (total_len > packet.size()) {
    return fail(DropReason::kTruncated, "IPv4 total length " + std::to_string(total_len) +
                                            " exceeds the " + std::to_string(packet.size()) +
                                            " bytes received");
  }
  // Bytes past the total length (link-layer padding) are not part of the datagram.
  Ipv4Datagram d;
  d.info.ttl = packet[8];
  d.protocol = packet[9];
  d.info.source = util::Ipv4{read_u32(packet, 12)};
  d.info.destination = util::Ipv4{read_u32(packet, 16)};
  d.payload = packet.subspan(header_len, total_len - header_len);
  return d;
}

}  // namespace failoverd::proto
