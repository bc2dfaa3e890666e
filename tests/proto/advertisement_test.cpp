#include "failoverd/proto/advertisement.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "proto/test_helpers.h"

namespace failoverd::proto {
namespace {

using testing::from_hex;
using testing::load_capture;
using util::Ipv4;

constexpr Ipv4 kSrc = Ipv4::from_octets(10, 200, 0, 1);
constexpr Ipv4 kPeer = Ipv4::from_octets(10, 200, 0, 2);
constexpr Ipv4 kVip = Ipv4::from_octets(10, 200, 0, 100);

PacketInfo info_to(Ipv4 dst, std::uint8_t ttl = 255) { return PacketInfo{kSrc, dst, ttl}; }

Advertisement keepalived_ad(std::uint8_t priority) {
  return Advertisement{51, priority, 100, {kVip}};
}

// Rewrites the checksum so that only the field under test is wrong.
void fix_checksum(std::vector<std::uint8_t>& vrrp, const PacketInfo& info, ChecksumMode mode) {
  vrrp[6] = vrrp[7] = 0;
  std::uint32_t initial = 0;
  if (mode == ChecksumMode::kPseudoHeader) {
    initial = (info.source.value >> 16) + (info.source.value & 0xFFFF) +
              (info.destination.value >> 16) + (info.destination.value & 0xFFFF) + 112 +
              static_cast<std::uint32_t>(vrrp.size());
  }
  const std::uint16_t sum = internet_checksum(vrrp, initial);
  vrrp[6] = static_cast<std::uint8_t>(sum >> 8);
  vrrp[7] = static_cast<std::uint8_t>(sum);
}

DecodeError decode_error(const std::vector<std::uint8_t>& vrrp, const PacketInfo& info,
                         ChecksumMode mode = ChecksumMode::kPseudoHeader, bool check_ttl = true) {
  auto r = decode(vrrp, info, mode, check_ttl);
  EXPECT_FALSE(r.has_value());
  if (r.has_value()) return DecodeError{DropReason::kCount_, "decoded unexpectedly"};
  return r.error();
}

TEST(InternetChecksum, Rfc1071Example) {
  // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2; the checksum is its complement.
  EXPECT_EQ(internet_checksum(from_hex("0001f203f4f5f6f7")), 0x220d);
}

TEST(InternetChecksum, OddLengthPadsWithZero) {
  EXPECT_EQ(internet_checksum(from_hex("0001f203f4f5f6")),
            internet_checksum(from_hex("0001f203f4f5f600")));
  EXPECT_EQ(internet_checksum({}), 0xFFFF);
}

TEST(InternetChecksum, InitialIsAPartialSum) {
  const auto all = from_hex("0001f203f4f5f6f7");
  const std::uint32_t head = static_cast<std::uint16_t>(~internet_checksum(from_hex("0001f203")));
  EXPECT_EQ(internet_checksum(from_hex("f4f5f6f7"), head), internet_checksum(all));
}

TEST(DropReasonNames, AreStableSnakeCaseAndDistinct) {
  EXPECT_STREQ(to_string(DropReason::kTruncated), "truncated");
  EXPECT_STREQ(to_string(DropReason::kBadIpHeader), "bad_ip_header");
  EXPECT_STREQ(to_string(DropReason::kNotVrrp), "not_vrrp");
  EXPECT_STREQ(to_string(DropReason::kBadVersion), "bad_version");
  EXPECT_STREQ(to_string(DropReason::kBadType), "bad_type");
  EXPECT_STREQ(to_string(DropReason::kBadLength), "bad_length");
  EXPECT_STREQ(to_string(DropReason::kNoAddresses), "no_addresses");
  EXPECT_STREQ(to_string(DropReason::kBadChecksum), "bad_checksum");
  EXPECT_STREQ(to_string(DropReason::kBadTtl), "bad_ttl");
  EXPECT_STREQ(to_string(DropReason::kWrongVrid), "wrong_vrid");
  EXPECT_STREQ(to_string(DropReason::kUnknownPeer), "unknown_peer");
  EXPECT_STREQ(to_string(DropReason::kOwnPacket), "own_packet");
  EXPECT_STREQ(to_string(DropReason::kBadAuth), "bad_auth");
  EXPECT_STREQ(to_string(DropReason::kReplay), "replay");
  std::set<std::string> names;
  for (std::size_t i = 0; i < kDropReasonCount; ++i) {
    names.insert(to_string(static_cast<DropReason>(i)));
  }
  EXPECT_EQ(names.size(), kDropReasonCount);
  EXPECT_EQ(names.count("unknown"), 0u);
}

// --- The keepalived 2.2.7 capture (tests/data/keepalived-vrrp3-unicast.txt) ---

TEST(KeepalivedCapture, WholePacketDecodesWithUnicastPseudoHeader) {
  const auto cap = load_capture("keepalived-vrrp3-unicast.txt");
  ASSERT_EQ(cap.ipv4.size(), 1u);
  const auto ip = parse_ipv4(cap.ipv4[0]);
  ASSERT_TRUE(ip.has_value()) << ip.error().detail;
  EXPECT_EQ(ip->protocol, kIpProtoVrrp);
  EXPECT_EQ(ip->info.source, kSrc);
  EXPECT_EQ(ip->info.destination, kPeer);
  EXPECT_EQ(ip->info.ttl, 255);

  const auto ad = decode(ip->payload, ip->info, ChecksumMode::kPseudoHeader);
  ASSERT_TRUE(ad.has_value()) << ad.error().detail;
  EXPECT_EQ(ad->virtual_router_id, 51);
  EXPECT_EQ(ad->priority, 150);
  EXPECT_EQ(ad->max_adver_interval_cs, 100);
  ASSERT_EQ(ad->addresses.size(), 1u);
  EXPECT_EQ(ad->addresses[0].to_string(), "10.200.0.100");
}

TEST(KeepalivedCapture, ChecksumFailsAgainstTheMulticastDestination) {
  const auto cap = load_capture("keepalived-vrrp3-unicast.txt");
  ASSERT_GE(cap.vrrp.size(), 1u);
  const DecodeError e = decode_error(cap.vrrp[0], info_to(util::kVrrpMulticast));
  EXPECT_EQ(e.reason, DropReason::kBadChecksum);
  EXPECT_EQ(e.detail, "checksum 0x172c does not match 0x41e3 (pseudo-header mode)");
}

TEST(KeepalivedCapture, ChecksumFailsWithoutPseudoHeader) {
  const auto cap = load_capture("keepalived-vrrp3-unicast.txt");
  ASSERT_GE(cap.vrrp.size(), 1u);
  const DecodeError e = decode_error(cap.vrrp[0], info_to(kPeer), ChecksumMode::kNoPseudoHeader);
  EXPECT_EQ(e.reason, DropReason::kBadChecksum);
  EXPECT_EQ(e.detail, "checksum 0x172c does not match 0x2d3b (no-pseudo-header mode)");
}

TEST(KeepalivedCapture, EncodeReproducesBothCapturedPayloads) {
  const auto cap = load_capture("keepalived-vrrp3-unicast.txt");
  ASSERT_EQ(cap.vrrp.size(), 2u);
  EXPECT_EQ(encode(keepalived_ad(150), kSrc, kPeer, ChecksumMode::kPseudoHeader), cap.vrrp[0]);
  EXPECT_EQ(encode(keepalived_ad(0), kSrc, kPeer, ChecksumMode::kPseudoHeader), cap.vrrp[1]);
  // The payload inside the whole captured packet is the same bytes.
  ASSERT_EQ(cap.ipv4.size(), 1u);
  const auto ip = parse_ipv4(cap.ipv4[0]);
  ASSERT_TRUE(ip.has_value());
  EXPECT_TRUE(std::equal(ip->payload.begin(), ip->payload.end(), cap.vrrp[0].begin(),
                         cap.vrrp[0].end()));
}

TEST(KeepalivedCapture, PriorityZeroDecodes) {
  const auto cap = load_capture("keepalived-vrrp3-unicast.txt");
  ASSERT_EQ(cap.vrrp.size(), 2u);
  const auto ad = decode(cap.vrrp[1], info_to(kPeer), ChecksumMode::kPseudoHeader);
  ASSERT_TRUE(ad.has_value()) << ad.error().detail;
  EXPECT_EQ(*ad, keepalived_ad(0));
}

// --- Round trips ---

TEST(Advertisement, RoundTripPseudoHeaderMulticast) {
  const Advertisement ad{7, 254, 4095,
                         {Ipv4::from_octets(192, 168, 1, 1), Ipv4::from_octets(10, 0, 0, 9),
                          Ipv4::from_octets(255, 255, 255, 255)}};
  const auto bytes = encode(ad, kSrc, util::kVrrpMulticast, ChecksumMode::kPseudoHeader);
  EXPECT_EQ(bytes.size(), 8u + 4u * 3u);
  const auto back = decode(bytes, info_to(util::kVrrpMulticast), ChecksumMode::kPseudoHeader);
  ASSERT_TRUE(back.has_value()) << back.error().detail;
  EXPECT_EQ(*back, ad);
}

TEST(Advertisement, RoundTripNoPseudoHeaderIgnoresAddresses) {
  const Advertisement ad{200, 1, 25, {kVip}};
  const auto bytes = encode(ad, kSrc, kPeer, ChecksumMode::kNoPseudoHeader);
  // Without the pseudo-header the IP addresses play no part in the checksum.
  EXPECT_EQ(bytes, encode(ad, Ipv4::from_octets(1, 2, 3, 4), util::kVrrpMulticast,
                          ChecksumMode::kNoPseudoHeader));
  const PacketInfo elsewhere{Ipv4::from_octets(9, 9, 9, 9), Ipv4::from_octets(8, 8, 8, 8), 255};
  const auto back = decode(bytes, elsewhere, ChecksumMode::kNoPseudoHeader);
  ASSERT_TRUE(back.has_value()) << back.error().detail;
  EXPECT_EQ(*back, ad);
  // The same bytes fail in pseudo-header mode.
  EXPECT_EQ(decode_error(bytes, info_to(kPeer)).reason, DropReason::kBadChecksum);
}

TEST(Advertisement, NoPseudoHeaderMatchesVrrpV2StyleSum) {
  // keepalived's v3_checksum_as_v2: the plain RFC 1071 sum of the VRRP message.
  const auto bytes = encode(keepalived_ad(150), kSrc, kPeer, ChecksumMode::kNoPseudoHeader);
  EXPECT_EQ(bytes, from_hex("3133960100642d3b0ac80064"));
  EXPECT_EQ(internet_checksum(bytes), 0);
}

TEST(Advertisement, EmptyAddressListGoesOutAsOneZeroAddress) {
  const Advertisement ad{1, 100, 100, {}};
  const auto bytes = encode(ad, kSrc, kPeer, ChecksumMode::kPseudoHeader);
  ASSERT_EQ(bytes.size(), 12u);
  EXPECT_EQ(bytes[3], 1);
  const auto back = decode(bytes, info_to(kPeer), ChecksumMode::kPseudoHeader);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->addresses, std::vector<Ipv4>{Ipv4{}});
}

TEST(Advertisement, OutOfRangeFieldsAreClampedNotWrapped) {
  Advertisement ad{1, 100, 4096, {}};
  for (std::uint32_t i = 0; i < 300; ++i) ad.addresses.push_back(Ipv4{i});
  const auto bytes = encode(ad, kSrc, kPeer, ChecksumMode::kPseudoHeader);
  EXPECT_EQ(bytes.size(), 8u + 4u * 255u);
  const auto back = decode(bytes, info_to(kPeer), ChecksumMode::kPseudoHeader);
  ASSERT_TRUE(back.has_value()) << back.error().detail;
  EXPECT_EQ(back->max_adver_interval_cs, 4095);
  EXPECT_EQ(back->addresses.size(), 255u);
  EXPECT_EQ(back->addresses.back(), Ipv4{254});
}

TEST(Advertisement, ReservedIntervalBitsAreSentAsZeroAndIgnored) {
  auto bytes = encode(keepalived_ad(150), kSrc, kPeer, ChecksumMode::kPseudoHeader);
  EXPECT_EQ(bytes[4] & 0xF0, 0);
  bytes[4] |= 0xF0;
  fix_checksum(bytes, info_to(kPeer), ChecksumMode::kPseudoHeader);
  const auto back = decode(bytes, info_to(kPeer), ChecksumMode::kPseudoHeader);
  ASSERT_TRUE(back.has_value()) << back.error().detail;
  EXPECT_EQ(back->max_adver_interval_cs, 100);
}

TEST(Advertisement, BothOnesComplementZerosAreAccepted) {
  // Find fields whose checksum comes out as 0x0000, then send it as the other zero, 0xffff.
  for (unsigned word = 0; word <= 0xFFFF; ++word) {
    const Advertisement ad{static_cast<std::uint8_t>(word >> 8), static_cast<std::uint8_t>(word),
                           100, {kVip}};
    auto bytes = encode(ad, kSrc, kPeer, ChecksumMode::kPseudoHeader);
    if (bytes[6] != 0 || bytes[7] != 0) continue;
    ASSERT_TRUE(decode(bytes, info_to(kPeer), ChecksumMode::kPseudoHeader).has_value());
    bytes[6] = bytes[7] = 0xFF;
    const auto back = decode(bytes, info_to(kPeer), ChecksumMode::kPseudoHeader);
    ASSERT_TRUE(back.has_value()) << back.error().detail;
    EXPECT_EQ(*back, ad);
    return;
  }
  FAIL() << "no field values with a zero checksum";
}

// --- Malformed input: exact reasons and details, in the documented order ---

class DecodeErrors : public ::testing::Test {
 protected:
  std::vector<std::uint8_t> good_ = encode(keepalived_ad(150), kSrc, kPeer,
                                           ChecksumMode::kPseudoHeader);
  PacketInfo info_ = info_to(kPeer);
};

TEST_F(DecodeErrors, Truncated) {
  for (std::size_t n = 0; n < 8; ++n) {
    const std::vector<std::uint8_t> cut(good_.begin(), good_.begin() + static_cast<long>(n));
    const DecodeError e = decode_error(cut, info_);
    EXPECT_EQ(e.reason, DropReason::kTruncated);
    EXPECT_EQ(e.detail, "VRRP packet is " + std::to_string(n) +
                            " bytes, shorter than the 8-byte header");
  }
}

TEST_F(DecodeErrors, Version) {
  good_[0] = 0x21;  // VRRPv2 advertisement
  const DecodeError e = decode_error(good_, info_);
  EXPECT_EQ(e.reason, DropReason::kBadVersion);
  EXPECT_EQ(e.detail, "version is 2, must be 3");
}

TEST_F(DecodeErrors, Type) {
  good_[0] = 0x32;
  const DecodeError e = decode_error(good_, info_);
  EXPECT_EQ(e.reason, DropReason::kBadType);
  EXPECT_EQ(e.detail, "type is 2, must be 1 (advertisement)");
}

TEST_F(DecodeErrors, ZeroCount) {
  good_[3] = 0;
  const DecodeError e = decode_error(good_, info_);
  EXPECT_EQ(e.reason, DropReason::kNoAddresses);
  EXPECT_EQ(e.detail, "address count is 0");
}

TEST_F(DecodeErrors, TrailingBytesAreABadLength) {
  good_.insert(good_.end(), {0, 0, 0, 0});
  const DecodeError e = decode_error(good_, info_);
  EXPECT_EQ(e.reason, DropReason::kBadLength);
  EXPECT_EQ(e.detail, "length 16 does not fit 1 address(es)");
}

TEST_F(DecodeErrors, OneTrailingByteIsABadLength) {
  good_.push_back(0);
  const DecodeError e = decode_error(good_, info_);
  EXPECT_EQ(e.reason, DropReason::kBadLength);
  EXPECT_EQ(e.detail, "length 13 does not fit 1 address(es)");
}

TEST_F(DecodeErrors, CountLargerThanThePacketIsABadLength) {
  good_[3] = 2;
  const DecodeError e = decode_error(good_, info_);
  EXPECT_EQ(e.reason, DropReason::kBadLength);
  EXPECT_EQ(e.detail, "length 12 does not fit 2 address(es)");
}

TEST_F(DecodeErrors, Checksum) {
  good_[2] = 151;  // priority changed in flight
  const DecodeError e = decode_error(good_, info_);
  EXPECT_EQ(e.reason, DropReason::kBadChecksum);
  EXPECT_EQ(e.detail, "checksum 0x172c does not match 0x162c (pseudo-header mode)");
}

TEST_F(DecodeErrors, ChecksumUsesTheSourceAddressToo) {
  const PacketInfo other_src{Ipv4::from_octets(10, 200, 0, 3), kPeer, 255};
  EXPECT_EQ(decode_error(good_, other_src).reason, DropReason::kBadChecksum);
}

TEST_F(DecodeErrors, Ttl) {
  info_.ttl = 64;
  const DecodeError e = decode_error(good_, info_);
  EXPECT_EQ(e.reason, DropReason::kBadTtl);
  EXPECT_EQ(e.detail, "TTL is 64, must be 255");
}

TEST_F(DecodeErrors, TtlIsNotCheckedWhenDisabled) {
  info_.ttl = 1;
  const auto ad = decode(good_, info_, ChecksumMode::kPseudoHeader, /*check_ttl=*/false);
  ASSERT_TRUE(ad.has_value()) << ad.error().detail;
  EXPECT_EQ(ad->priority, 150);
}

TEST_F(DecodeErrors, OrderVersionBeforeTypeAndChecksum) {
  good_[0] = 0x22;  // bad version and bad type; checksum now also wrong
  EXPECT_EQ(decode_error(good_, info_).reason, DropReason::kBadVersion);
}

TEST_F(DecodeErrors, OrderTypeBeforeCount) {
  good_[0] = 0x3F;
  good_[3] = 0;
  EXPECT_EQ(decode_error(good_, info_).reason, DropReason::kBadType);
}

TEST_F(DecodeErrors, OrderCountBeforeLength) {
  good_[3] = 0;
  good_.push_back(1);
  EXPECT_EQ(decode_error(good_, info_).reason, DropReason::kNoAddresses);
}

TEST_F(DecodeErrors, OrderLengthBeforeChecksum) {
  good_.insert(good_.end(), {1, 2, 3, 4});  // also breaks the checksum
  EXPECT_EQ(decode_error(good_, info_).reason, DropReason::kBadLength);
}

TEST_F(DecodeErrors, OrderChecksumBeforeTtl) {
  info_.ttl = 64;
  good_[2] = 1;
  EXPECT_EQ(decode_error(good_, info_).reason, DropReason::kBadChecksum);
}

TEST_F(DecodeErrors, AnySingleByteChangeIsRejected) {
  for (std::size_t i = 0; i < good_.size(); ++i) {
    for (unsigned delta = 1; delta < 256; ++delta) {
      auto bad = good_;
      bad[i] = static_cast<std::uint8_t>(bad[i] + delta);
      // The one undetectable change: the checksum's other one's-complement zero. The
      // captured checksum is 0x172c, so it cannot arise here.
      EXPECT_FALSE(decode(bad, info_, ChecksumMode::kPseudoHeader).has_value())
          << "byte " << i << " +" << delta;
    }
  }
}

}  // namespace
}  // namespace failoverd::proto
