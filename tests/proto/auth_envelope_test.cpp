#include "failoverd/proto/auth_envelope.h"

#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>

#include "proto/test_helpers.h"

namespace failoverd::proto {
namespace {

using testing::from_hex;
using util::Ipv4;

std::vector<std::uint8_t> key_of(std::uint8_t fill, std::size_t n = 32) {
  return std::vector<std::uint8_t>(n, fill);
}

const std::vector<std::uint8_t> kVrrp = from_hex("313396010064172c0ac80064");

DecodeError open_error(const Authenticator& auth, const std::vector<std::uint8_t>& datagram) {
  auto r = auth.open(datagram);
  EXPECT_FALSE(r.has_value());
  if (r.has_value()) return DecodeError{DropReason::kCount_, "opened unexpectedly"};
  return r.error();
}

TEST(Authenticator, SealLayout) {
  const Authenticator auth(key_of(0x11));
  const auto d = auth.seal(kVrrp, 0x0102030405060708ULL);
  ASSERT_EQ(d.size(), kVrrp.size() + kTrailerSize);
  EXPECT_TRUE(std::equal(kVrrp.begin(), kVrrp.end(), d.begin()));
  EXPECT_EQ(std::vector<std::uint8_t>(d.begin() + 12, d.begin() + 24),
            from_hex("464f76310102030405060708"));  // "FOv1", then the sequence big-endian
}

TEST(Authenticator, KnownAnswer) {
  // HMAC-SHA256 with RFC 4231 test case 1's key over "Hi There" || "FOv1" || 1 (big-endian),
  // computed independently with Python's hmac module. Pins the wire format.
  const Authenticator auth(key_of(0x0b, 20));
  const std::vector<std::uint8_t> payload = {'H', 'i', ' ', 'T', 'h', 'e', 'r', 'e'};
  const auto d = auth.seal(payload, 1);
  ASSERT_EQ(d.size(), 8u + kTrailerSize);
  EXPECT_EQ(std::vector<std::uint8_t>(d.end() - 32, d.end()),
            from_hex("bdd24fd8d0e69f18fcae7decedaff11b49fc0fd5891fa72baf69771a38938e8e"));
}

TEST(Authenticator, RoundTrip) {
  const Authenticator auth(key_of(0x22));
  const auto d = auth.seal(kVrrp, 1'700'000'000'000'000ULL);
  const auto opened = auth.open(d);
  ASSERT_TRUE(opened.has_value()) << opened.error().detail;
  EXPECT_EQ(opened->sequence, 1'700'000'000'000'000ULL);
  EXPECT_EQ(opened->vrrp.data(), d.data());  // a view into the input
  EXPECT_TRUE(std::equal(opened->vrrp.begin(), opened->vrrp.end(), kVrrp.begin(), kVrrp.end()));
}

TEST(Authenticator, RoundTripEmptyPayloadAndExtremeSequences) {
  const Authenticator auth(key_of(0x33, kMinKeySize));
  for (std::uint64_t seq : {std::uint64_t{0}, std::numeric_limits<std::uint64_t>::max()}) {
    const auto d = auth.seal({}, seq);
    ASSERT_EQ(d.size(), kTrailerSize);
    const auto opened = auth.open(d);
    ASSERT_TRUE(opened.has_value()) << opened.error().detail;
    EXPECT_EQ(opened->sequence, seq);
    EXPECT_TRUE(opened->vrrp.empty());
  }
}

TEST(Authenticator, AnyFlippedBitIsBadAuth) {
  const Authenticator auth(key_of(0x44));
  const auto good = auth.seal(kVrrp, 42);
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      auto bad = good;
      bad[i] ^= static_cast<std::uint8_t>(1u << bit);
      const DecodeError e = open_error(auth, bad);
      EXPECT_EQ(e.reason, DropReason::kBadAuth) << "byte " << i << " bit " << bit;
      EXPECT_FALSE(e.detail.empty());
    }
  }
}

TEST(Authenticator, WrongKeyIsBadAuth) {
  const auto d = Authenticator(key_of(0x55)).seal(kVrrp, 7);
  auto other_key = key_of(0x55);
  other_key.back() ^= 1;
  const DecodeError e = open_error(Authenticator(other_key), d);
  EXPECT_EQ(e.reason, DropReason::kBadAuth);
  EXPECT_EQ(e.detail, "HMAC does not match (wrong key or altered datagram)");
}

TEST(Authenticator, WrongMagicIsBadAuth) {
  const Authenticator auth(key_of(0x66));
  auto d = auth.seal(kVrrp, 7);
  d[12] = 'X';
  const DecodeError e = open_error(auth, d);
  EXPECT_EQ(e.reason, DropReason::kBadAuth);
  EXPECT_EQ(e.detail, "trailer magic is not FOv1 (not a failoverd udp datagram)");
}

TEST(Authenticator, ShorterThanTrailerIsTruncated) {
  const Authenticator auth(key_of(0x77));
  const auto d = auth.seal(kVrrp, 7);
  const std::vector<std::uint8_t> cut(d.end() - 43, d.end());
  const DecodeError e = open_error(auth, cut);
  EXPECT_EQ(e.reason, DropReason::kTruncated);
  EXPECT_EQ(e.detail, "datagram is 43 bytes, shorter than the 44-byte authentication trailer");
  EXPECT_EQ(open_error(auth, {}).reason, DropReason::kTruncated);
}

TEST(Authenticator, EveryCutOrExtensionIsRefused) {
  const Authenticator auth(key_of(0x88));
  const auto d = auth.seal(kVrrp, 7);
  for (std::size_t n = 0; n < d.size(); ++n) {
    const std::vector<std::uint8_t> cut(d.begin(), d.begin() + static_cast<long>(n));
    const DecodeError e = open_error(auth, cut);
    EXPECT_EQ(e.reason, n < kTrailerSize ? DropReason::kTruncated : DropReason::kBadAuth) << n;
  }
  auto longer = d;
  longer.push_back(0);
  EXPECT_EQ(open_error(auth, longer).reason, DropReason::kBadAuth);
}

TEST(Authenticator, ShortKeyIsRefused) {
  EXPECT_THROW(Authenticator(key_of(1, kMinKeySize - 1)), std::invalid_argument);
  EXPECT_NO_THROW(Authenticator(key_of(1, kMinKeySize)));
}

TEST(ReplayGuard, StrictlyIncreasingPerPeer) {
  const Ipv4 a = Ipv4::from_octets(10, 0, 0, 1);
  const Ipv4 b = Ipv4::from_octets(10, 0, 0, 2);
  ReplayGuard guard;
  EXPECT_TRUE(guard.accept(a, 100));
  EXPECT_FALSE(guard.accept(a, 100));  // equal: a replay
  EXPECT_FALSE(guard.accept(a, 99));   // lower: a replay
  EXPECT_TRUE(guard.accept(a, 101));
  EXPECT_FALSE(guard.accept(a, 100));  // refused ones did not lower the mark
  // Each peer has its own sequence.
  EXPECT_TRUE(guard.accept(b, 5));
  EXPECT_FALSE(guard.accept(b, 5));
  EXPECT_TRUE(guard.accept(b, 6));
  EXPECT_FALSE(guard.accept(a, 101));
  EXPECT_TRUE(guard.accept(a, 1'000'000));
}

TEST(ReplayGuard, FirstSequenceZeroAndMaximum) {
  const Ipv4 a = Ipv4::from_octets(10, 0, 0, 1);
  ReplayGuard guard;
  EXPECT_TRUE(guard.accept(a, 0));
  EXPECT_FALSE(guard.accept(a, 0));
  EXPECT_TRUE(guard.accept(a, std::numeric_limits<std::uint64_t>::max()));
  EXPECT_FALSE(guard.accept(a, std::numeric_limits<std::uint64_t>::max()));
}

}  // namespace
}  // namespace failoverd::proto
