#include "failoverd/importer/ini_writer.h"

#include <gtest/gtest.h>

#include "failoverd/config/config.h"

namespace failoverd::importer {
namespace {

std::string error_of(const IniSection& s) {
  const auto r = render_ini({&s});
  EXPECT_FALSE(r.has_value()) << (r ? *r : "");
  return r ? "" : r.error();
}

TEST(IniWriter, WritesSectionsThatTheConfigParserReads) {
  IniSection head("");
  head.note("written by a test");
  IniSection instance("instance");
  instance.set("name", "web");
  instance.set("interface", "eth0");
  instance.set("track_interface", "eth1");
  instance.set("track_interface", "eth2");  // repeatable
  IniSection vrrp("vrrp");
  vrrp.note(
      "a note that is long enough to be wrapped at one hundred columns, so that the "
      "second half of it lands on a line of its own");
  vrrp.set("virtual_router_id", "7");
  const auto text = render_ini({&head, &instance, &vrrp});
  ASSERT_TRUE(text.has_value()) << text.error();
  EXPECT_EQ(*text,
            "# written by a test\n"
            "\n[instance]\nname = web\ninterface = eth0\ntrack_interface = eth1\n"
            "track_interface = eth2\n"
            "\n[vrrp]\n"
            "# a note that is long enough to be wrapped at one hundred columns, so that the "
            "second half of it\n"
            "#   lands on a line of its own\n"
            "virtual_router_id = 7\n");
  const auto cfg = config::parse_config(*text);
  ASSERT_TRUE(cfg.has_value());
  EXPECT_EQ(cfg->instance.track_interfaces, (std::vector<std::string>{"eth1", "eth2"}));
}

// A key failoverd does not know is a bug in the importer: the whole output is refused.
TEST(IniWriter, AKeyNotInTheSchemaIsAHardError) {
  IniSection vrrp("vrrp");
  vrrp.set("virtual_router_id", "7");
  vrrp.set("advert_int", "1");  // keepalived's name, not failoverd's
  EXPECT_EQ(error_of(vrrp), "[vrrp] advert_int: not a key of failoverd's schema");
  IniSection check("check.web");
  check.set("garp_count", "3");  // a key of another section
  EXPECT_EQ(error_of(check), "[check.web] garp_count: not a key of failoverd's schema");
}

TEST(IniWriter, ASecondValueOfAKeyThatTakesOneIsAHardError) {
  IniSection vrrp("vrrp");
  vrrp.set("priority", "100");
  vrrp.set("priority", "200");
  EXPECT_EQ(error_of(vrrp), "[vrrp] priority: set twice, and it takes one value");
}

TEST(IniWriter, UnknownSectionsKeysOutsideSectionsAndUnreadableValuesAreHardErrors) {
  EXPECT_NE(error_of(IniSection("vrrp_instance")).find("unknown section"), std::string::npos);
  EXPECT_NE(error_of(IniSection("check.a b")).find("check name"), std::string::npos);
  IniSection head("");
  head.set("priority", "1");
  EXPECT_EQ(error_of(head), "[] priority: a key outside any section of failoverd's schema");
  for (const char* bad : {"", " x", "x ", "a#b", "a\nb", "\x01"}) {
    IniSection vrrp("vrrp");
    vrrp.set("priority", bad);
    EXPECT_EQ(error_of(vrrp),
              "[vrrp] priority: a value the config parser would not read back as it is")
        << bad;
  }
  IniSection fixme("vrrp");
  fixme.fixme("FIXME a = b");  // would read as a key
  EXPECT_NE(error_of(fixme).find("FIXME line"), std::string::npos);
}

TEST(IniWriter, TheFirstErrorIsKept) {
  IniSection vrrp("vrrp");
  vrrp.set("nope", "1");
  vrrp.set("priority", "1");
  vrrp.set("priority", "2");
  EXPECT_EQ(error_of(vrrp), "[vrrp] nope: not a key of failoverd's schema");
}

}  // namespace
}  // namespace failoverd::importer
