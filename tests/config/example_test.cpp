// conf/failoverd.conf is the documented example: it must parse, document every key, and the
// defaults it documents must be the real ones. These tests keep it from rotting.
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "failoverd/config/config.h"
#include "test_util.h"

namespace failoverd::config {
namespace {

using testing::kMinimal;
using testing::parse_ok;

std::string example_text() {
  std::ifstream in(std::string(FAILOVERD_SOURCE_DIR) + "/conf/failoverd.conf");
  EXPECT_TRUE(in.good()) << "cannot open conf/failoverd.conf";
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Uncomments, in `section` only, the "#key = value" lines (a '#' directly followed by the key)
// and a "#[section]" header, except the keys in `exclude`. Lines like "#   key = value" and
// indented continuation comments stay comments.
std::string uncomment(const std::string& text, const std::string& section,
                      const std::set<std::string>& exclude = {}) {
  static const std::regex kHeader(R"(^#?\[([^\]]*)\].*)");
  static const std::regex kKeyLine(R"(^#([a-z_]+) *=.*)");
  std::istringstream in(text);
  std::string out;
  std::string current;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, kHeader)) {
      current = m[1];
      if (current == section && line[0] == '#') line.erase(0, 1);
    } else if (current == section && std::regex_match(line, m, kKeyLine) &&
               exclude.count(m[1]) == 0) {
      line.erase(0, 1);
    }
    out += line + "\n";
  }
  return out;
}

TEST(ExampleConfigTest, ParsesToTheMinimalConfig) {
  // Everything optional is commented out, so it is the minimal config plus empty sections.
  EXPECT_EQ(parse_ok(example_text()), parse_ok(kMinimal));
}

TEST(ExampleConfigTest, DocumentedDefaultsAreTheDefaults) {
  const std::string text = example_text();
  const Config base = parse_ok(text);
  // Keys whose documented value is an example rather than the default are left commented.
  const std::vector<std::pair<std::string, std::set<std::string>>> sections = {
      {"instance", {"track_interface"}},
      {"vrrp", {"peer", "source", "port", "auth_key_file"}},
      {"virtual_ip", {"address"}},
      {"notify", {"master", "backup", "fault", "stop"}},
      {"control", {}},
      {"metrics", {"listen"}}};
  for (const auto& [section, exclude] : sections) {
    const std::string changed = uncomment(text, section, exclude);
    EXPECT_EQ(parse_ok(changed), base) << "[" << section << "] documents a wrong default";
    if (section == "vrrp" || section == "notify" || section == "control") {
      EXPECT_NE(changed, text) << "no default uncommented in [" << section << "]";
    }
  }
  // The udp-only keys document valid values too.
  const Config udp = parse_ok(uncomment(text, "vrrp"), {"vrrp.transport=udp"});
  EXPECT_EQ(udp.vrrp.port, proto::kDefaultUdpPort);
  EXPECT_EQ(udp.vrrp.peers.size(), 1u);
}

TEST(ExampleConfigTest, CommonCheckKeysDocumentTheirDefaults) {
  const std::string text = example_text();
  static const std::regex kCommon(R"((^|\n)#   (interval|timeout|rise|fall|weight) = (\S+))");
  std::vector<std::string> overrides;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kCommon);
       it != std::sregex_iterator(); ++it) {
    overrides.push_back("check.t." + (*it)[2].str() + "=" + (*it)[3].str());
  }
  ASSERT_EQ(overrides.size(), 5u);
  const std::vector<std::string> base = {"check.t.type=tcp", "check.t.address=127.0.0.1:1"};
  std::vector<std::string> with_defaults = base;
  with_defaults.insert(with_defaults.end(), overrides.begin(), overrides.end());
  EXPECT_EQ(parse_ok(kMinimal, with_defaults), parse_ok(kMinimal, base));
}

TEST(ExampleConfigTest, EveryCheckBlockParses) {
  const std::string text = example_text();
  const Config docker = parse_ok(uncomment(text, "check.containers", {"label", "name"}));
  ASSERT_EQ(docker.checks.size(), 1u);
  EXPECT_EQ(std::get<DockerCheckSpec>(docker.checks[0].spec), DockerCheckSpec{});
  const Config docker_full = parse_ok(uncomment(text, "check.containers"));
  ASSERT_EQ(docker_full.checks.size(), 1u);
  EXPECT_EQ(std::get<DockerCheckSpec>(docker_full.checks[0].spec).labels.size(), 1u);

  const Config http = parse_ok(uncomment(text, "check.web"));
  ASSERT_EQ(http.checks.size(), 1u);
  const auto& spec = std::get<HttpCheckSpec>(http.checks[0].spec);
  EXPECT_EQ(spec.expect_status, HttpCheckSpec{}.expect_status);
  EXPECT_EQ(spec.tls_verify, HttpCheckSpec{}.tls_verify);

  const Config tcp = parse_ok(uncomment(text, "check.db"));
  ASSERT_EQ(tcp.checks.size(), 1u);
  EXPECT_EQ(tcp.checks[0].type(), CheckType::kTcp);

  const Config exec = parse_ok(uncomment(text, "check.script"));
  ASSERT_EQ(exec.checks.size(), 1u);
  EXPECT_THAT(std::get<ExecCheckSpec>(exec.checks[0].spec).command,
              ::testing::ElementsAre("/usr/local/bin/check-app", "--quick", "some arg"));
}

TEST(ExampleConfigTest, ReservedIpBlockDocumentsDigitalOceanDefaults) {
  const std::string text = example_text();
  const std::set<std::string> other_providers = {"server_id", "zone_id", "record", "command"};
  std::set<std::string> defaults_only = other_providers;
  defaults_only.insert({"droplet_id", "api_url", "metadata_url", "reconcile_interval"});
  const Config documented = parse_ok(uncomment(text, "reserved_ip", other_providers));
  const Config bare = parse_ok(uncomment(text, "reserved_ip", defaults_only));
  EXPECT_EQ(documented, bare);
  EXPECT_EQ(documented.reserved_ip.provider, Provider::kDigitalOcean);
}

TEST(ExampleConfigTest, EveryKeyIsDocumented) {
  const std::string text = example_text();
  const std::vector<std::string> keys = {
      "name", "interface", "track_interface", "virtual_router_id", "priority",
      "advert_interval", "preempt", "preempt_delay", "transport", "peer", "source", "port",
      "auth_key_file", "checksum_pseudo_header", "instant_handover", "type", "interval", "timeout", "rise", "fall",
      "weight", "socket", "min_running", "label", "url", "expect_status", "expect_body",
      "tls_verify", "address", "command", "user", "provider", "token_file", "droplet_id",
      "server_id", "zone_id", "record", "api_url", "metadata_url", "reconcile_interval",
      "master", "backup", "fault", "stop", "listen"};
  for (const auto& key : keys) {
    const std::regex documented("(^|\n)#?( {3})?" + key + " *=");
    EXPECT_TRUE(std::regex_search(text, documented)) << key << " is not in conf/failoverd.conf";
  }
}

}  // namespace
}  // namespace failoverd::config
