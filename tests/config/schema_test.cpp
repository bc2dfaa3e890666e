#include "failoverd/config/schema.h"

#include <gtest/gtest.h>

#include <string>

#include "failoverd/config/config.h"

namespace failoverd::config {
namespace {

TEST(Schema, SectionKinds) {
  EXPECT_EQ(section_kind("vrrp").value(), SectionKind::kVrrp);
  EXPECT_EQ(section_kind("check.web").value(), SectionKind::kCheck);
  EXPECT_EQ(section_kind("virtual_ip").value(), SectionKind::kVirtualIp);
  EXPECT_FALSE(section_kind("check.").has_value());
  EXPECT_FALSE(section_kind("check.a b").has_value());
  EXPECT_FALSE(section_kind("vrp").has_value());
  EXPECT_FALSE(section_kind("").has_value());
}

TEST(Schema, KeysAndRepeatability) {
  ASSERT_NE(find_key(SectionKind::kVrrp, "peer"), nullptr);
  EXPECT_TRUE(find_key(SectionKind::kVrrp, "peer")->repeatable);
  EXPECT_FALSE(find_key(SectionKind::kVrrp, "priority")->repeatable);
  EXPECT_TRUE(find_key(SectionKind::kVirtualIp, "address")->repeatable);
  EXPECT_EQ(find_key(SectionKind::kVrrp, "address"), nullptr);
  EXPECT_EQ(find_key(SectionKind::kCheck, "garp_count"), nullptr);
}

// The schema is the parser's: every key it lists is one parse_config knows, in its section.
TEST(Schema, EveryKeyIsOneTheParserKnows) {
  const std::pair<const char*, SectionKind> kSections[] = {
      {"instance", SectionKind::kInstance},    {"vrrp", SectionKind::kVrrp},
      {"check.c", SectionKind::kCheck},        {"reserved_ip", SectionKind::kReservedIp},
      {"virtual_ip", SectionKind::kVirtualIp}, {"notify", SectionKind::kNotify},
      {"control", SectionKind::kControl},      {"metrics", SectionKind::kMetrics}};
  std::size_t keys = 0;
  for (const auto& [name, kind] : kSections) {
    EXPECT_EQ(section_kind(name).value(), kind);
    for (const KeySpec& k : keys_of(kind)) {
      ++keys;
      const std::string text = "[" + std::string(name) + "]\n" + std::string(k.key) + " = x\n";
      const auto parsed = parse_config(text);
      ASSERT_FALSE(parsed.has_value());  // "x" is no valid value for most keys, and no vrid
      for (const Problem& p : parsed.error()) {
        EXPECT_NE(p.message, "unknown key") << p.to_string();
      }
    }
  }
  EXPECT_GE(keys, 50u);
  // And one that is not in the schema is refused as such.
  const auto parsed = parse_config("[vrrp]\nnot_a_key = 1\n");
  ASSERT_FALSE(parsed.has_value());
  bool unknown = false;
  for (const Problem& p : parsed.error()) unknown = unknown || p.message == "unknown key";
  EXPECT_TRUE(unknown);
}

TEST(Schema, Names) {
  EXPECT_TRUE(valid_name("web-1", false));
  EXPECT_FALSE(valid_name("web.1", false));
  EXPECT_TRUE(valid_name("web.1", true));
  EXPECT_FALSE(valid_name("..", true));
  EXPECT_FALSE(valid_name(std::string(33, 'a'), false));
}

}  // namespace
}  // namespace failoverd::config
