#include <gtest/gtest.h>

#include "failoverd/proto/advertisement.h"
#include "proto/test_helpers.h"

namespace failoverd::proto {
namespace {

using testing::from_hex;
using util::Ipv4;

// keepalived's captured advert: 20-byte header, 12-byte VRRP payload.
const std::vector<std::uint8_t> kCaptured =
    from_hex("45c0002000020000ff70a5190ac800010ac80002313396010064172c0ac80064");

DecodeError parse_error(const std::vector<std::uint8_t>& packet) {
  auto r = parse_ipv4(packet);
  EXPECT_FALSE(r.has_value());
  if (r.has_value()) return DecodeError{DropReason::kCount_, "parsed unexpectedly"};
  return r.error();
}

void set_total_length(std::vector<std::uint8_t>& p, std::size_t n) {
  p[2] = static_cast<std::uint8_t>(n >> 8);
  p[3] = static_cast<std::uint8_t>(n);
}

TEST(ParseIpv4, CapturedPacket) {
  const auto d = parse_ipv4(kCaptured);
  ASSERT_TRUE(d.has_value()) << d.error().detail;
  EXPECT_EQ(d->info.source, Ipv4::from_octets(10, 200, 0, 1));
  EXPECT_EQ(d->info.destination, Ipv4::from_octets(10, 200, 0, 2));
  EXPECT_EQ(d->info.ttl, 255);
  EXPECT_EQ(d->protocol, 112);
  // The payload is a view into the input, not a copy.
  EXPECT_EQ(d->payload.data(), kCaptured.data() + 20);
  EXPECT_EQ(d->payload.size(), 12u);
}

TEST(ParseIpv4, ReturnsOtherProtocolsForTheCallerToDrop) {
  auto p = kCaptured;
  p[9] = 17;
  const auto d = parse_ipv4(p);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->protocol, 17);
}

TEST(ParseIpv4, SkipsOptions) {
  // IHL 6: a 4-byte option (router alert, 94 04 00 00) between header and payload.
  auto p = kCaptured;
  p[0] = 0x46;
  p.insert(p.begin() + 20, {0x94, 0x04, 0x00, 0x00});
  set_total_length(p, 36);
  const auto d = parse_ipv4(p);
  ASSERT_TRUE(d.has_value()) << d.error().detail;
  EXPECT_EQ(d->payload.data(), p.data() + 24);
  ASSERT_EQ(d->payload.size(), 12u);
  EXPECT_EQ(d->payload[0], 0x31);
}

TEST(ParseIpv4, IgnoresBytesPastTotalLength) {
  auto p = kCaptured;
  p.insert(p.end(), {0, 0, 0, 0, 0, 0});  // Ethernet minimum-frame padding
  const auto d = parse_ipv4(p);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->payload.size(), 12u);
}

TEST(ParseIpv4, HeaderOnlyGivesEmptyPayload) {
  std::vector<std::uint8_t> p(kCaptured.begin(), kCaptured.begin() + 20);
  set_total_length(p, 20);
  const auto d = parse_ipv4(p);
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->payload.empty());
}

TEST(ParseIpv4, ShorterThanMinimumHeader) {
  for (std::size_t n : {0u, 1u, 19u}) {
    const std::vector<std::uint8_t> p(kCaptured.begin(), kCaptured.begin() + static_cast<long>(n));
    const DecodeError e = parse_error(p);
    EXPECT_EQ(e.reason, DropReason::kTruncated);
    EXPECT_EQ(e.detail, "IPv4 packet is " + std::to_string(n) +
                            " bytes, shorter than the 20-byte header");
  }
}

TEST(ParseIpv4, WrongVersion) {
  auto p = kCaptured;
  p[0] = 0x65;
  const DecodeError e = parse_error(p);
  EXPECT_EQ(e.reason, DropReason::kBadIpHeader);
  EXPECT_EQ(e.detail, "IP version is 6, must be 4");
}

TEST(ParseIpv4, HeaderLengthBelowMinimum) {
  auto p = kCaptured;
  p[0] = 0x44;
  const DecodeError e = parse_error(p);
  EXPECT_EQ(e.reason, DropReason::kBadIpHeader);
  EXPECT_EQ(e.detail, "IPv4 header length is 16 bytes, must be at least 20");
}

TEST(ParseIpv4, TotalLengthBelowHeaderLength) {
  auto p = kCaptured;
  set_total_length(p, 10);
  const DecodeError e = parse_error(p);
  EXPECT_EQ(e.reason, DropReason::kBadIpHeader);
  EXPECT_EQ(e.detail, "IPv4 total length 10 is less than the header length 20");
}

TEST(ParseIpv4, HeaderLengthBeyondTotalLength) {
  auto p = kCaptured;
  p[0] = 0x4F;  // 60-byte header claimed in a 32-byte datagram
  const DecodeError e = parse_error(p);
  EXPECT_EQ(e.reason, DropReason::kBadIpHeader);
  EXPECT_EQ(e.detail, "IPv4 total length 32 is less than the header length 60");
}

TEST(ParseIpv4, TotalLengthBeyondBufferIsTruncated) {
  auto p = kCaptured;
  set_total_length(p, 40);
  const DecodeError e = parse_error(p);
  EXPECT_EQ(e.reason, DropReason::kTruncated);
  EXPECT_EQ(e.detail, "IPv4 total length 40 exceeds the 32 bytes received");
}

TEST(ParseIpv4, OptionsCutOffAreTruncated) {
  auto p = kCaptured;
  p[0] = 0x4F;
  set_total_length(p, 60);
  const DecodeError e = parse_error(p);
  EXPECT_EQ(e.reason, DropReason::kTruncated);
  EXPECT_EQ(e.detail, "IPv4 total length 60 exceeds the 32 bytes received");
}

}  // namespace
}  // namespace failoverd::proto
