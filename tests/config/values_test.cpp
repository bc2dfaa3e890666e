#include "failoverd/config/values.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace failoverd::config {
namespace {

using ::testing::ElementsAre;

TEST(ValuesTest, ParseBool) {
  EXPECT_TRUE(*parse_bool("On"));
  EXPECT_FALSE(*parse_bool("0"));
  EXPECT_FALSE(parse_bool("").has_value());
  EXPECT_EQ(parse_bool("truee").error(), "\"truee\" is not a boolean (use true or false)");
}

TEST(ValuesTest, ParseInt) {
  EXPECT_EQ(*parse_int("+7", 0, 10), 7);
  EXPECT_EQ(*parse_int("-254", -254, 254), -254);
  EXPECT_EQ(parse_int("11", 0, 10).error(), "11 is out of range 0..10");
  EXPECT_EQ(parse_int("11", 0, 10, "1..9").error(), "11 is out of range 1..9");
  EXPECT_EQ(parse_int("", 0, 10).error(), "\"\" is not a whole number");
  EXPECT_EQ(parse_int("-", 0, 10).error(), "\"-\" is not a whole number");
  EXPECT_EQ(parse_int("1.5", 0, 10).error(), "\"1.5\" is not a whole number");
  EXPECT_EQ(parse_int("0x10", 0, 100).error(), "\"0x10\" is not a whole number");
  EXPECT_EQ(parse_int("9223372036854775808", 0, 10).error(),
            "9223372036854775808 is out of range 0..10");
}

TEST(ValuesTest, ParseHostPort) {
  auto a = parse_host_port("127.0.0.1:9798");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9798);
  EXPECT_EQ(a->to_string(), "127.0.0.1:9798");
  auto b = parse_host_port("[fe80::1]:80");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "fe80::1");
  EXPECT_EQ(b->to_string(), "[fe80::1]:80");
  EXPECT_EQ(parse_host_port("db.internal:5432")->host, "db.internal");
  for (const char* bad : {"", ":80", "host", "host:", "host:x", "fe80::1:80", "[::1]80",
                          "[::1:80", "a b:80", "host:-1"}) {
    EXPECT_FALSE(parse_host_port(bad).has_value()) << bad;
  }
  EXPECT_EQ(parse_host_port("h:0").error(), "\"h:0\": port 0 is out of range 1..65535");
}

TEST(ValuesTest, ParseCidr) {
  auto c = parse_cidr("192.168.1.10/24");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->address, util::Ipv4::from_octets(192, 168, 1, 10));
  EXPECT_EQ(c->prefix_len, 24);
  EXPECT_EQ(c->to_string(), "192.168.1.10/24");
  for (const char* bad : {"1.2.3.4/", "1.2.3.4/x", "1.2.3/24", "1.2.3.4/024", "/24",
                          "1.2.3.4/24/1"}) {
    EXPECT_FALSE(parse_cidr(bad).has_value()) << bad;
  }
  EXPECT_EQ(parse_cidr("1.2.3.4/0").error(),
            "\"1.2.3.4/0\": prefix length 0 is out of range 1..32");
}

TEST(ValuesTest, SplitCommand) {
  EXPECT_THAT(*split_command("/bin/check  -v\t--x"), ElementsAre("/bin/check", "-v", "--x"));
  EXPECT_THAT(*split_command("\"/opt/my tool/run\" a\"b c\"d \"\""),
              ElementsAre("/opt/my tool/run", "ab cd", ""));
  EXPECT_EQ(split_command("a \"b").error(), "\"a \"b\" has an unterminated double quote");
  EXPECT_EQ(split_command("  ").error(), "is an empty command");
}

TEST(ValuesTest, IsUnicast) {
  EXPECT_TRUE(is_unicast(util::Ipv4::from_octets(10, 0, 0, 1)));
  EXPECT_TRUE(is_unicast(util::Ipv4::from_octets(127, 0, 0, 1)));
  EXPECT_FALSE(is_unicast(util::Ipv4::from_octets(0, 0, 0, 0)));
  EXPECT_FALSE(is_unicast(util::Ipv4::from_octets(0, 1, 2, 3)));
  EXPECT_FALSE(is_unicast(util::kVrrpMulticast));
  EXPECT_FALSE(is_unicast(util::Ipv4::from_octets(255, 255, 255, 255)));
  EXPECT_FALSE(is_unicast(util::Ipv4::from_octets(240, 0, 0, 1)));
}

}  // namespace
}  // namespace failoverd::config
