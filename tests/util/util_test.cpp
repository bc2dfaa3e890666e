#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <string>

#include "failoverd/util/duration.h"
#include "failoverd/util/ipv4.h"

namespace failoverd::util {
namespace {

using std::chrono::microseconds;

TEST(Ipv4, ParsesDottedQuads) {
  EXPECT_EQ(Ipv4::parse("10.200.0.100"), Ipv4::from_octets(10, 200, 0, 100));
  EXPECT_EQ(Ipv4::parse("0.0.0.0"), Ipv4{0});
  EXPECT_EQ(Ipv4::parse("255.255.255.255"), Ipv4{0xFFFFFFFF});
  EXPECT_EQ(Ipv4::parse("224.0.0.18"), kVrrpMulticast);
  EXPECT_EQ(Ipv4::parse("1.2.3.4")->value, 0x01020304u);
}

TEST(Ipv4, RefusesAnythingElse) {
  for (const char* bad : {"", "1", "1.2.3", "1.2.3.4.5", "1.2.3.4.", ".1.2.3.4", "1..2.3",
                          "256.0.0.1", "1.2.3.256", "1000.1.1.1", "01.2.3.4", "1.2.3.00",
                          " 1.2.3.4", "1.2.3.4 ", "1.2.3.-4", "+1.2.3.4", "a.b.c.d", "0x1.2.3.4",
                          "1.2.3.4/24", "::1", "1.2.3.4\n"}) {
    EXPECT_EQ(Ipv4::parse(bad), std::nullopt) << '"' << bad << '"';
  }
  EXPECT_EQ(Ipv4::parse(std::string_view("1.2.3.4\0", 8)), std::nullopt);
}

TEST(Ipv4, ToStringRoundTrips) {
  EXPECT_EQ(Ipv4::from_octets(10, 200, 0, 100).to_string(), "10.200.0.100");
  EXPECT_EQ(Ipv4{}.to_string(), "0.0.0.0");
  EXPECT_EQ(Ipv4{0xFFFFFFFF}.to_string(), "255.255.255.255");
  for (std::uint32_t v : {0x01020304u, 0x0A000001u, 0xC0A80101u, 0x7F000001u, 0x80000000u}) {
    EXPECT_EQ(Ipv4::parse(Ipv4{v}.to_string()), Ipv4{v});
  }
}

TEST(Ipv4, NetworkOrderAndComparison) {
  const Ipv4 a = Ipv4::from_octets(10, 0, 0, 1);
  const std::uint32_t n = a.network_order();
  const auto* bytes = reinterpret_cast<const unsigned char*>(&n);
  EXPECT_EQ(bytes[0], 10);
  EXPECT_EQ(bytes[3], 1);
  EXPECT_EQ(Ipv4::from_network_order(n), a);
  // Compared as unsigned integers, as RFC 5798 compares primary addresses.
  EXPECT_LT(Ipv4::from_octets(10, 0, 0, 2), Ipv4::from_octets(10, 0, 0, 10));
  EXPECT_LT(Ipv4::from_octets(127, 0, 0, 1), Ipv4::from_octets(128, 0, 0, 0));
  EXPECT_TRUE(kVrrpMulticast.is_multicast());
  EXPECT_TRUE(Ipv4::from_octets(239, 255, 255, 255).is_multicast());
  EXPECT_FALSE(Ipv4::from_octets(240, 0, 0, 0).is_multicast());
  EXPECT_FALSE(a.is_multicast());
}

microseconds ok(std::string_view text) {
  const auto r = parse_duration(text);
  EXPECT_TRUE(r.has_value()) << text << ": " << (r ? "" : r.error());
  return r ? *r : microseconds{-1};
}

std::string err(std::string_view text) {
  const auto r = parse_duration(text);
  EXPECT_FALSE(r.has_value()) << text;
  return r ? "" : r.error();
}

TEST(ParseDuration, Units) {
  EXPECT_EQ(ok("250us"), microseconds{250});
  EXPECT_EQ(ok("100ms"), microseconds{100'000});
  EXPECT_EQ(ok("1s"), microseconds{1'000'000});
  EXPECT_EQ(ok("2m"), microseconds{120'000'000});
  EXPECT_EQ(ok("1h"), microseconds{3'600'000'000LL});
  EXPECT_EQ(ok("0s"), microseconds{0});
  EXPECT_EQ(ok("007ms"), microseconds{7'000});
}

TEST(ParseDuration, Fractions) {
  EXPECT_EQ(ok("1.5s"), microseconds{1'500'000});
  EXPECT_EQ(ok("0.1s"), microseconds{100'000});
  EXPECT_EQ(ok(".5s"), microseconds{500'000});
  EXPECT_EQ(ok("2.5ms"), microseconds{2'500});
  EXPECT_EQ(ok("1.000001s"), microseconds{1'000'001});
  EXPECT_EQ(ok("1.5000000000000s"), microseconds{1'500'000});  // trailing zeros are exact
  EXPECT_EQ(ok("0.0000000025h"), microseconds{9});              // 10 digits, still exact
  EXPECT_EQ(ok("1.25m"), microseconds{75'000'000});
}

TEST(ParseDuration, FinerThanAMicrosecond) {
  EXPECT_EQ(err("1.5us"), "\"1.5us\" is finer than a microsecond");
  EXPECT_EQ(err("1.0000001s"), "\"1.0000001s\" is finer than a microsecond");
  // Digits beyond the ninth used to be dropped silently, turning this into 1s.
  EXPECT_EQ(err("1.0000000001s"), "\"1.0000000001s\" is finer than a microsecond");
  EXPECT_EQ(err("0.00000000001h"), "\"0.00000000001h\" is finer than a microsecond");
}

TEST(ParseDuration, MalformedTextHasExactErrors) {
  EXPECT_EQ(err(""), "\"\" is not a duration (expected e.g. 100ms, 1s, 2m)");
  EXPECT_EQ(err("ms"), "\"ms\" is not a duration (expected e.g. 100ms, 1s, 2m)");
  EXPECT_EQ(err("-1s"), "\"-1s\" is not a duration (expected e.g. 100ms, 1s, 2m)");
  EXPECT_EQ(err(".s"), "\".s\" is not a duration (expected e.g. 100ms, 1s, 2m)");
  EXPECT_EQ(err("1"), "\"1\" has no unit (use us, ms, s, m or h)");
  EXPECT_EQ(err("1.5"), "\"1.5\" has no unit (use us, ms, s, m or h)");
  EXPECT_EQ(err("1sec"), "\"1sec\" has an unknown unit \"sec\" (use us, ms, s, m or h)");
  EXPECT_EQ(err("1 s"), "\"1 s\" has an unknown unit \" s\" (use us, ms, s, m or h)");
  EXPECT_EQ(err("1S"), "\"1S\" has an unknown unit \"S\" (use us, ms, s, m or h)");
  EXPECT_EQ(err("1.2.3s"), "\"1.2.3s\" has an unknown unit \".3s\" (use us, ms, s, m or h)");
}

TEST(ParseDuration, Range) {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(ok("9223372036854775807us"), microseconds{kMax});
  EXPECT_EQ(err("9223372036854775808us"), "\"9223372036854775808us\" is too large");
  EXPECT_EQ(err("99999999999999999999999s"), "\"99999999999999999999999s\" is too large");
  EXPECT_EQ(err("2562047789h"), "\"2562047789h\" is too large");
  EXPECT_EQ(ok("2562047788h"), microseconds{2562047788LL * 3'600'000'000LL});
  EXPECT_EQ(err("2562047788.1h"), "\"2562047788.1h\" is too large");
  // The limit depends on the unit: 500 s written in microseconds is fine.
  EXPECT_EQ(ok("500000000us"), microseconds{500'000'000});
}

TEST(FormatDuration, ShortestExactForm) {
  EXPECT_EQ(format_duration(microseconds{1'000'000}), "1s");
  EXPECT_EQ(format_duration(microseconds{100'000}), "100ms");
  EXPECT_EQ(format_duration(microseconds{1'500'000}), "1500ms");
  EXPECT_EQ(format_duration(microseconds{250}), "250us");
  EXPECT_EQ(format_duration(microseconds{120'000'000}), "2m");
  EXPECT_EQ(format_duration(microseconds{90'000'000}), "90s");
  EXPECT_EQ(format_duration(microseconds{3'600'000'000LL}), "1h");
  EXPECT_EQ(format_duration(microseconds{0}), "0s");
}

TEST(FormatDuration, ParsesBack) {
  for (std::int64_t us : {1LL, 999LL, 1'000LL, 1'001LL, 59'000'000LL, 60'000'000LL,
                          7'200'000'000LL, 3'601'000'000LL, 123'456'789LL}) {
    const microseconds d{us};
    EXPECT_EQ(ok(format_duration(d)), d) << us;
  }
}

}  // namespace
}  // namespace failoverd::util
