// Deterministic fuzz-style tests: many random and mutated byte strings through every parser.
// Each must return a value or an error with a named reason and a non-empty detail; run under
// ASan/UBSan to also catch out-of-bounds reads.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "failoverd/proto/advertisement.h"
#include "failoverd/proto/auth_envelope.h"
#include "proto/test_helpers.h"

namespace failoverd::proto {
namespace {

using testing::from_hex;
using util::Ipv4;

const std::vector<std::uint8_t> kCaptured =
    from_hex("45c0002000020000ff70a5190ac800010ac80002313396010064172c0ac80064");

class Fuzzer {
 public:
  explicit Fuzzer(std::uint32_t seed) : rng_(seed) {}

  std::size_t below(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  std::uint8_t byte() { return static_cast<std::uint8_t>(below(256)); }

  std::vector<std::uint8_t> random_bytes(std::size_t max_len) {
    std::vector<std::uint8_t> out(below(max_len + 1));
    for (auto& b : out) b = byte();
    return out;
  }

  // A few random edits: flip bits, overwrite, insert, erase, truncate.
  std::vector<std::uint8_t> mutate(std::vector<std::uint8_t> in) {
    const std::size_t edits = 1 + below(4);
    for (std::size_t k = 0; k < edits; ++k) {
      switch (below(5)) {
        case 0:
          if (!in.empty()) in[below(in.size())] ^= static_cast<std::uint8_t>(1u << below(8));
          break;
        case 1:
          if (!in.empty()) in[below(in.size())] = byte();
          break;
        case 2: in.insert(in.begin() + static_cast<long>(below(in.size() + 1)), byte()); break;
        case 3:
          if (!in.empty()) in.erase(in.begin() + static_cast<long>(below(in.size())));
          break;
        case 4: in.resize(below(in.size() + 1)); break;
      }
    }
    return in;
  }

  Ipv4 address() { return Ipv4{static_cast<std::uint32_t>(rng_())}; }

  PacketInfo info() {
    return PacketInfo{address(), address(), byte()};
  }

  Advertisement advertisement() {
    Advertisement ad{byte(), byte(), static_cast<std::uint16_t>(below(4096)), {}};
    const std::size_t n = 1 + below(8);
    for (std::size_t i = 0; i < n; ++i) ad.addresses.push_back(address());
    return ad;
  }

 private:
  std::mt19937 rng_;
};

void expect_well_formed(const DecodeError& e, const char* where) {
  EXPECT_LT(static_cast<std::size_t>(e.reason), kDropReasonCount) << where;
  EXPECT_STRNE(to_string(e.reason), "unknown") << where;
  EXPECT_FALSE(e.detail.empty()) << where;
}

// Runs one input through every parser; returns how many of them accepted it.
int feed(const std::vector<std::uint8_t>& bytes, const PacketInfo& info,
         const Authenticator& auth) {
  int accepted = 0;
  const auto ip = parse_ipv4(bytes);
  if (ip) {
    ++accepted;
    EXPECT_GE(ip->payload.data(), bytes.data());
    EXPECT_LE(ip->payload.data() + ip->payload.size(), bytes.data() + bytes.size());
    const auto ad = decode(ip->payload, ip->info, ChecksumMode::kPseudoHeader);
    if (!ad) expect_well_formed(ad.error(), "decode(payload)");
  } else {
    expect_well_formed(ip.error(), "parse_ipv4");
  }
  for (auto mode : {ChecksumMode::kPseudoHeader, ChecksumMode::kNoPseudoHeader}) {
    const auto ad = decode(bytes, info, mode, /*check_ttl=*/info.ttl % 2 == 0);
    if (ad) {
      ++accepted;
      // Whatever decodes re-encodes to something that decodes to the same advertisement.
      const auto again = decode(encode(*ad, info.source, info.destination, mode), info, mode,
                                /*check_ttl=*/false);
      EXPECT_TRUE(again.has_value());
      if (again) {
        EXPECT_EQ(*again, *ad);
      }
    } else {
      expect_well_formed(ad.error(), "decode");
    }
  }
  const auto opened = auth.open(bytes);
  if (opened) {
    ++accepted;
  } else {
    expect_well_formed(opened.error(), "open");
  }
  return accepted;
}

TEST(Fuzz, RandomBytes) {
  Fuzzer f(12345);
  const Authenticator auth(std::vector<std::uint8_t>(32, 0xA5));
  for (int i = 0; i < 20000; ++i) feed(f.random_bytes(96), f.info(), auth);
}

TEST(Fuzz, RandomBytesWithPlausibleHeaders) {
  // Random bytes rarely get past the first check; fix the version/type and IPv4 nibble so
  // the deeper checks are exercised too.
  Fuzzer f(777);
  const Authenticator auth(std::vector<std::uint8_t>(32, 0xA5));
  for (int i = 0; i < 20000; ++i) {
    auto bytes = f.random_bytes(80);
    if (!bytes.empty()) {
      bytes[0] = (i % 2 == 0) ? 0x31 : static_cast<std::uint8_t>(0x40 | (bytes[0] & 0x0F));
    }
    if (bytes.size() > 3 && i % 4 == 0) bytes[3] = static_cast<std::uint8_t>(f.below(4));
    feed(bytes, f.info(), auth);
  }
}

TEST(Fuzz, MutatedCapturedPacket) {
  Fuzzer f(2024);
  const Authenticator auth(std::vector<std::uint8_t>(32, 0xA5));
  const PacketInfo unicast{Ipv4::from_octets(10, 200, 0, 1), Ipv4::from_octets(10, 200, 0, 2), 255};
  const std::vector<std::uint8_t> vrrp(kCaptured.begin() + 20, kCaptured.end());
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    const auto whole = f.mutate(kCaptured);
    if (parse_ipv4(whole)) ++parsed;
    feed(whole, unicast, auth);
    feed(f.mutate(vrrp), unicast, auth);
  }
  EXPECT_GT(parsed, 1000);  // the mutations do reach the VRRP decoder
}

TEST(Fuzz, MutatedSealedDatagramsNeverOpen) {
  Fuzzer f(99);
  const Authenticator auth(std::vector<std::uint8_t>(32, 0x5A));
  const Ipv4 src = Ipv4::from_octets(10, 0, 0, 1);
  const Ipv4 dst = Ipv4::from_octets(10, 0, 0, 2);
  for (int i = 0; i < 5000; ++i) {
    const auto sealed = auth.seal(encode(f.advertisement(), src, dst, ChecksumMode::kPseudoHeader),
                                  static_cast<std::uint64_t>(i));
    const auto opened = auth.open(sealed);
    ASSERT_TRUE(opened.has_value());
    EXPECT_EQ(opened->sequence, static_cast<std::uint64_t>(i));
    const auto bad = f.mutate(sealed);
    if (bad == sealed) continue;  // e.g. a flip then the same flip back
    const auto r = auth.open(bad);
    ASSERT_FALSE(r.has_value());
    expect_well_formed(r.error(), "open(mutated)");
  }
}

TEST(Fuzz, RandomAdvertisementsRoundTrip) {
  Fuzzer f(4242);
  for (int i = 0; i < 10000; ++i) {
    const auto ad = f.advertisement();
    const PacketInfo info{f.info().source, f.info().destination, 255};
    const auto mode = i % 2 ? ChecksumMode::kPseudoHeader : ChecksumMode::kNoPseudoHeader;
    const auto bytes = encode(ad, info.source, info.destination, mode);
    const auto back = decode(bytes, info, mode);
    ASSERT_TRUE(back.has_value()) << back.error().detail;
    EXPECT_EQ(*back, ad);
  }
}

}  // namespace
}  // namespace failoverd::proto
