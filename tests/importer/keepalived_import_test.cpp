#include "failoverd/importer/keepalived_import.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#include "importer/keepalived_samples.h"
#include "failoverd/config/config.h"
#include "failoverd/config/schema.h"

namespace failoverd::importer {
namespace {

ImportResult import_ok(std::string_view text, const ImportOptions& options = {}) {
  auto r = import_keepalived(text, options);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().to_string());
  return r ? *r : ImportResult{};
}

ImportError import_error(std::string_view text, const ImportOptions& options = {}) {
  auto r = import_keepalived(text, options);
  EXPECT_FALSE(r.has_value()) << "unexpectedly translated:\n" << (r ? r->config : "");
  return r ? ImportError{} : r.error();
}

// The output with wrapped comments joined again ("...\n#   more" -> "... more"), so a test
// can look for a whole note.
std::string unwrapped(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 5, "\n#   ") == 0) {
      out += ' ';
      i += 4;
      while (i + 1 < text.size() && text[i + 1] == ' ') ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos ||
         unwrapped(haystack).find(needle) != std::string::npos;
}

// The warnings joined, one per line, for substring checks.
std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// What failoverd --check-config says about an output ("" when it validates): the tests go
// through the real config parser, as the user will.
std::string problems(const std::string& config) {
  const auto parsed = config::parse_config(config);
  if (parsed) return "";
  std::string out;
  for (const auto& p : parsed.error()) out += p.to_string() + "\n";
  return out;
}

// The output does not validate, and the config parser's complaint names the keepalived line.
void expect_refused_at(const ImportResult& r, std::size_t line) {
  const std::string p = problems(r.config);
  EXPECT_NE(p, "") << "validates:\n" << r.config;
  EXPECT_TRUE(has(p, "\"FIXME keepalived line " + std::to_string(line) + ": "))
      << p << "---\n" << r.config;
}

void expect_valid(const ImportResult& r) { EXPECT_EQ(problems(r.config), "") << r.config; }

// A minimal valid instance around `body`.
std::string instance_with(const std::string& body, const std::string& before = "") {
  return before + "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 9\n" +
         "  priority 100\n  version 3\n" + body + "}\n";
}

// ---- the keepalived syntax ----

TEST(ParseKeepalived, ReadsBlocksCommentsAndQuotes) {
  auto tree = parse_keepalived(
      "! a comment\n"
      "global_defs {   # trailing comment\n"
      "  router_id \"two words\" ! and another\n"
      "}\n"
      "vrrp_instance VI_1\n"
      "{\n"
      "  track_script { chk_a chk_b }\n"
      "  notify_master '/bin/echo \"hi there\"' root\n"
      "}\n");
  ASSERT_TRUE(tree.has_value()) << tree.error().to_string();
  ASSERT_EQ(tree->size(), 2u);
  const auto& g = (*tree)[0];
  EXPECT_EQ(g.words, (std::vector<std::string>{"global_defs"}));
  EXPECT_TRUE(g.has_block);
  ASSERT_EQ(g.children.size(), 1u);
  EXPECT_EQ(g.children[0].words, (std::vector<std::string>{"router_id", "two words"}));
  EXPECT_EQ(g.children[0].line, 3u);
  const auto& vi = (*tree)[1];
  EXPECT_EQ(vi.words, (std::vector<std::string>{"vrrp_instance", "VI_1"}));
  EXPECT_EQ(vi.line, 5u);  // the brace on the next line belongs to it
  ASSERT_EQ(vi.children.size(), 2u);
  EXPECT_EQ(vi.children[0].words, (std::vector<std::string>{"track_script"}));
  ASSERT_EQ(vi.children[0].children.size(), 1u);  // one line inside the braces: one statement
  EXPECT_EQ(vi.children[0].children[0].words, (std::vector<std::string>{"chk_a", "chk_b"}));
  EXPECT_EQ(vi.children[1].words,
            (std::vector<std::string>{"notify_master", "/bin/echo \"hi there\"", "root"}));
}

TEST(ParseKeepalived, JoinsAdjacentQuotesAndAppliesEscapes) {
  auto tree = parse_keepalived("a \"b c\"'d'e \"tab\\there\" \"q\\\"uote\" '#not-a-comment'\r\n");
  ASSERT_TRUE(tree.has_value());
  ASSERT_EQ(tree->size(), 1u);
  EXPECT_EQ((*tree)[0].words,
            (std::vector<std::string>{"a", "b cde", "tab\there", "q\"uote", "#not-a-comment"}));
}

TEST(ParseKeepalived, BracesNeedNoBlanksAround) {
  auto tree = parse_keepalived("vrrp_instance X{interface eth0}\n");
  ASSERT_TRUE(tree.has_value());
  ASSERT_EQ(tree->size(), 1u);
  ASSERT_EQ((*tree)[0].children.size(), 1u);
  EXPECT_EQ((*tree)[0].children[0].words, (std::vector<std::string>{"interface", "eth0"}));
}

TEST(SplitKeepalivedCommand, SingleQuotesGroupAnArgument) {
  EXPECT_EQ(split_keepalived_command("/bin/sh -c 'pgrep -x nginx || exit 1'"),
            (std::vector<std::string>{"/bin/sh", "-c", "pgrep -x nginx || exit 1"}));
  EXPECT_EQ(split_keepalived_command("  /usr/bin/true  "),
            (std::vector<std::string>{"/usr/bin/true"}));
  EXPECT_TRUE(split_keepalived_command("   ").empty());
  EXPECT_TRUE(split_keepalived_command("/bin/sh -c 'unterminated").empty());
}

// ---- input errors, with line numbers ----

TEST(ImportErrors, NameTheLine) {
  EXPECT_EQ(import_error("vrrp_instance A {\n  interface eth0\n}\n}\n").to_string(),
            "line 4: '}' without a matching '{'");
  EXPECT_EQ(import_error("global_defs {\n}\nvrrp_instance A {\n  virtual_ipaddress {\n"
                         "    10.0.0.1\n}\n")
                .to_string(),
            "line 3: the block of \"vrrp_instance A\" is not closed (missing '}')");
  EXPECT_EQ(import_error("vrrp_instance A {\n  notify_master \"/bin/x\n}\n").to_string(),
            "line 2: unterminated quote (quotes do not span lines)");
  EXPECT_EQ(import_error("{\n}\n").to_string(), "line 1: '{' without a keyword before it");
  EXPECT_EQ(import_error("a {\n}\n{\n}\n").to_string(), "line 3: '{' without a keyword before it");
  EXPECT_EQ(import_error("global_defs {\n  router_id x\n}\n").to_string(),
            "no vrrp_instance block: nothing to translate");
  EXPECT_EQ(import_error("").to_string(), "no vrrp_instance block: nothing to translate");
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "b {\n";
  EXPECT_EQ(import_error(deep).to_string(), "line 33: blocks nested deeper than 32");
}

TEST(ImportErrors, UnknownInstanceNamesTheOnesThere) {
  ImportOptions o;
  o.vrrp_instance = "VI_9";
  EXPECT_EQ(import_error(instance_with("") + "vrrp_instance VI_2 {\n}\n", o).to_string(),
            "no vrrp_instance VI_9 (there are: VI_1, VI_2)");
}

// ---- realistic configs ----

TEST(ImportKeepalived, TypicalUnicastPairWithDockerScriptAndNotify) {
  const ImportResult r = import_ok(samples::kTypical);
  EXPECT_EQ(r.instance, "VI_1");
  EXPECT_TRUE(r.other_instances.empty());
  ASSERT_EQ(r.warnings.size(), 1u) << joined(r.warnings);
  EXPECT_TRUE(has(r.warnings[0], "line 28: authentication: a keepalived peer enforcing it drops "
                                 "failoverd's adverts"));
  EXPECT_EQ(r.config,
            "# failoverd configuration written by failoverctl import-keepalived.\n"
            "# From: keepalived.conf, vrrp_instance VI_1.\n"
            "# Review every \"keepalived\" comment: each names an option that is mapped "
            "differently or\n"
            "# not at all. Validate with: failoverd --check-config FILE\n"
            "#\n"
            "# keepalived options outside this vrrp_instance:\n"
            "#   line 3: router_id minitwit-a: not mapped: [instance] name identifies the "
            "instance in logs\n"
            "#   line 4: script_user root: mapped to the user of the exec checks; failoverd runs "
            "notify hooks as\n"
            "#     its own user\n"
            "#   line 5: enable_script_security: not needed: failoverd always refuses hook "
            "scripts that others\n"
            "#     can modify\n"
            "\n"
            "[instance]\n"
            "name = VI_1\n"
            "interface = eth1\n"
            "\n"
            "[vrrp]\n"
            "# keepalived line 28: authentication: not mapped: a keepalived peer that enforces it "
            "drops\n"
            "#   failoverd's adverts, so a mixed pair cannot work; between failoverd nodes use "
            "transport = udp\n"
            "#   with auth_key_file\n"
            "# keepalived line 19: state MASTER: failoverd has no initial state; it starts as "
            "BACKUP and becomes\n"
            "#   MASTER when no higher priority is heard for Master_Down_Interval (3.41s here)\n"
            "# keepalived: failoverd hears adverts only from the peer addresses (keepalived's "
            "check_unicast_src);\n"
            "#   keepalived without it heard any source: each peer must send from the address "
            "listed (its\n"
            "#   unicast_src_ip)\n"
            "virtual_router_id = 51\n"
            "priority = 150\n"
            "advert_interval = 1s\n"
            "preempt = true\n"
            "source = 10.114.0.4\n"
            "peer = 10.114.0.5\n"
            "\n"
            "[check.chk_docker]\n"
            "# keepalived line 9: vrrp_script chk_docker\n"
            "# keepalived line 10: failoverd also has a built-in container check (type = docker, "
            "min_running,\n"
            "#   label) that needs no script; see failoverd.conf\n"
            "# keepalived line 9: weight -20: subtracted from the priority while the check "
            "fails, as in\n"
            "#   keepalived\n"
            "# keepalived line 9: user: global_defs script_user\n"
            "type = exec\n"
            "command = /bin/sh -c \"[ $(docker ps -q --filter "
            "label=com.docker.compose.project=minitwit | wc -l) -ge 10 ]\"\n"
            "interval = 2s\n"
            "timeout = 1s\n"
            "rise = 2\n"
            "fall = 3\n"
            "weight = -20\n"
            "user = root\n"
            "\n"
            "[virtual_ip]\n"
            "# keepalived line 33: 10.114.0.100/24: options not mapped (failoverd adds a plain "
            "address; the\n"
            "#   address still moves to the MASTER): label eth1:vip\n"
            "address = 10.114.0.100/24\n"
            "\n"
            "[notify]\n"
            "# failoverd runs each hook with argv INSTANCE STATE PRIORITY (keepalived's notify_* "
            "scripts got\n"
            "#   none)\n"
            "master = /etc/keepalived/master.sh\n");
}

TEST(ImportKeepalived, LabPeerConfigWithGenericNotify) {
  const ImportResult r = import_ok(samples::kLab);
  EXPECT_TRUE(has(r.config, "name = VI_51\ninterface = veth0\n"));
  EXPECT_TRUE(has(r.config, "virtual_router_id = 51\npriority = 150\nadvert_interval = 1s\n"
                            "preempt = true\nsource = 10.200.0.1\npeer = 10.200.0.2\n"));
  EXPECT_TRUE(has(r.config, "[virtual_ip]\naddress = 10.200.0.100/24\n"));
  // The generic notify has no failoverd equivalent: a hook that would silently not run, so
  // a FIXME the config check refuses (and a warning), no key.
  EXPECT_TRUE(has(r.config, "notify /tmp/ka1/notify.sh: not mapped"));
  EXPECT_FALSE(has(r.config, "master ="));
  expect_refused_at(r, 21);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0], "line 21: FIXME: the generic notify script would not run: set "
                           "[notify] master, backup, fault and stop (to a wrapper that passes "
                           "keepalived's arguments)");
}

TEST(ImportKeepalived, MulticastFractionalAdvertNopreemptAndScriptDefaults) {
  const ImportResult r = import_ok(samples::kMulticastFast);
  EXPECT_TRUE(has(r.config, "[instance]\nname = web\ninterface = ens3\ntrack_interface = ens4\n"));
  EXPECT_TRUE(has(r.config, "advert_interval = 250ms\npreempt = false\npreempt_delay = 4500ms\n"));
  EXPECT_FALSE(has(r.config, "peer ="));
  EXPECT_TRUE(has(r.config, "# no unicast_peer: adverts go to multicast 224.0.0.18"));
  // keepalived's script defaults are written out (failoverd's differ); the timeout must be
  // shorter than the interval in failoverd.
  EXPECT_TRUE(has(r.config, "command = /usr/bin/pgrep -x haproxy\ninterval = 1s\n"
                            "timeout = 990ms\nrise = 1\nfall = 1\nweight = 10\n"));
  EXPECT_TRUE(has(r.config, "address = 192.168.7.10/24\naddress = 192.168.7.11/32\n"));
  EXPECT_TRUE(has(r.config, "backup = /etc/keepalived/backup.sh\nfault = "
                            "/etc/keepalived/fault.sh\nstop = /etc/keepalived/stop.sh\n"));
  EXPECT_TRUE(r.warnings.empty()) << joined(r.warnings);
}

TEST(ImportKeepalived, AdvertIntIsRoundedToCentisecondsAndClamped) {
  auto r = import_ok(instance_with("  advert_int 0.125\n"));
  EXPECT_TRUE(has(r.config, "advert_interval = 130ms\n"));
  EXPECT_TRUE(has(joined(r.warnings), "line 6: advert_int 0.125 is 130ms in keepalived and here"));
  r = import_ok(instance_with("  advert_int 0.1\n"));
  EXPECT_TRUE(has(r.config, "advert_interval = 100ms\n"));
  EXPECT_TRUE(r.warnings.empty()) << joined(r.warnings);
  r = import_ok(instance_with("  advert_int 60\n"));
  EXPECT_TRUE(has(r.config, "advert_interval = 40950ms\n"));
  r = import_ok(instance_with("  advert_int fast\n"));
  EXPECT_TRUE(has(r.config, "advert_interval = 1s\n"));
  EXPECT_TRUE(has(joined(r.warnings), "advert_int fast is invalid; keepalived uses 1s"));
}

TEST(ImportKeepalived, VrrpVersion2IsAWarning) {
  const std::string text = "vrrp_instance A {\n  interface eth0\n  virtual_router_id 3\n}\n";
  const ImportResult r = import_ok(text);
  EXPECT_TRUE(has(r.config, "VRRP version 2 (keepalived's default). failoverd speaks VRRPv3 only"));
  EXPECT_TRUE(has(joined(r.warnings), "line 1: keepalived runs VRRPv2 here"));
  // global vrrp_version 3 or the instance's own `version 3` silence it.
  EXPECT_TRUE(import_ok("global_defs {\n vrrp_version 3\n}\n" + text).warnings.empty());
}

TEST(ImportKeepalived, StateMasterWithoutPriorityIsTheAddressOwner) {
  const ImportResult r = import_ok(
      "vrrp_instance A {\n  version 3\n  state MASTER\n  interface eth0\n"
      "  virtual_router_id 3\n}\n");
  EXPECT_TRUE(has(r.config, "priority = 255\n"));
  EXPECT_TRUE(has(r.config, "with priority 255 it becomes MASTER at start"));
  EXPECT_TRUE(has(import_ok(instance_with("", "")).config, "priority = 100\n"));
}

TEST(ImportKeepalived, MissingInterfaceAndVridAreFixmesNotGuesses) {
  const ImportResult r = import_ok("vrrp_instance A {\n  version 3\n}\n");
  EXPECT_FALSE(has(r.config, "interface ="));
  EXPECT_FALSE(has(r.config, "virtual_router_id ="));
  EXPECT_TRUE(has(r.config, "FIXME keepalived line 1: vrrp_instance A names no interface"));
  EXPECT_TRUE(has(r.config, "FIXME keepalived line 1: vrrp_instance A has no virtual_router_id"));
  EXPECT_EQ(r.warnings.size(), 2u) << joined(r.warnings);
  expect_refused_at(r, 1);
}

TEST(ImportKeepalived, UnmappedOptionsBecomeComments) {
  const std::string text = instance_with(
      "  garp_master_delay 10\n"
      "  use_vmac\n"
      "  mcast_dst_ip 224.0.0.19\n"
      "  virtual_ipaddress {\n"
      "    10.0.0.5/24 dev eth9 scope global label eth9:1\n"
      "    fe80::5/64\n"
      "  }\n"
      "  virtual_routes {\n    0.0.0.0/0 via 10.0.0.1\n  }\n"
      "  track_interface {\n    eth1 weight -10\n  }\n"
      "  notify_master \"/etc/keepalived/master.sh --reserved-ip 203.0.113.10\" root\n"
      "  smtp_alert\n",
      "global_defs {\n  notification_email {\n    ops@example.com\n  }\n  vrrp_strict\n}\n"
      "virtual_server 10.0.0.5 80 {\n  real_server 10.0.0.7 80 {\n  }\n}\n"
      "virtual_server 10.0.0.5 443 {\n}\n"
      "vrrp_sync_group G {\n  group {\n    VI_1\n  }\n}\n");
  const ImportResult r = import_ok(text);
  const std::string& c = r.config;
  EXPECT_TRUE(has(c, "line 2: notification_email { ... }: not mapped: failoverd sends no mail"));
  EXPECT_TRUE(has(c, "FIXME keepalived line 5: vrrp_strict: keepalived drops traffic to the "
                     "virtual IPs"));
  EXPECT_TRUE(has(c, "line 7: virtual_server (2 LVS blocks): not mapped: failoverd does not do "
                     "load balancing"));
  // VI_1 is in the sync group: its meaning is lost, so the file does not validate.
  EXPECT_TRUE(has(c, "FIXME keepalived line 13: vrrp_instance VI_1 is in vrrp_sync_group G"));
  EXPECT_TRUE(has(c, "garp_master_delay 10: not mapped: failoverd sends garp_count gratuitous "
                     "ARPs garp_interval apart on becoming MASTER ([virtual_ip]); this only "
                     "changes how often neighbours are told, not which node is MASTER or "
                     "whether the address moves"));
  EXPECT_TRUE(has(c, ": use_vmac: keepalived answers for the virtual IPs "
                     "from a virtual MAC"));
  EXPECT_TRUE(has(c, "mcast_dst_ip 224.0.0.19: failoverd multicasts to 224.0.0.18 only"));
  EXPECT_TRUE(has(c, ": virtual IP 10.0.0.5/24 is on eth9 in keepalived; failoverd adds "
                     "virtual IPs to interface eth0 only"));
  EXPECT_TRUE(has(c, "options not mapped (failoverd adds a plain address; the address still "
                     "moves to the MASTER): scope global label"));
  EXPECT_TRUE(has(c, "address = 10.0.0.5/24\n"));
  EXPECT_TRUE(has(c, "fe80::5/64: not an IPv4 address"));
  EXPECT_TRUE(has(c, ": virtual_routes: failoverd does not add routes"));
  EXPECT_FALSE(has(c, "track_interface = eth1\n"));
  EXPECT_TRUE(has(c, ": track_interface eth1 weight -10: failoverd puts the instance in FAULT"));
  // A hook with arguments: failoverd would run the program without them.
  EXPECT_FALSE(has(c, "master ="));
  EXPECT_TRUE(has(c, "notify_master passes the arguments --reserved-ip 203.0.113.10"));
  EXPECT_TRUE(has(c, "notify_master has arguments that failoverd "
                     "cannot pass"));
  EXPECT_TRUE(has(c, "smtp_alert: not mapped"));
  const std::string w = joined(r.warnings);
  EXPECT_TRUE(has(w, "notify_master has arguments that failoverd cannot pass"));
  EXPECT_TRUE(has(w, "FIXME: virtual IP 10.0.0.5/24 is on eth9 in keepalived"));
  EXPECT_TRUE(has(w, ": FIXME: use_vmac: keepalived answers for the virtual IPs"));
  // Every comment line stays within 100 columns.
  std::istringstream lines(c);
  for (std::string l; std::getline(lines, l);) {
    if (l.rfind("FIXME", 0) != 0) {
      EXPECT_LE(l.size(), 100u) << l;
    }
  }
}

TEST(ImportKeepalived, TrackScriptWeightOverridesAndReverseIsFlagged) {
  const std::string scripts =
      "vrrp_script chk {\n  script /usr/bin/true\n  weight 5\n  timeout 3\n  interval 2\n}\n"
      "vrrp_script \"bad name!\" {\n  script \"/usr/bin/test -f '/run/a b'\"\n  weight -3 reverse\n"
      "  user nobody nogroup\n  init_fail\n}\n";
  const ImportResult r = import_ok(
      instance_with("  track_script {\n    chk weight -7\n    \"bad name!\"\n    missing\n  }\n",
                    scripts));
  const std::string& c = r.config;
  EXPECT_TRUE(has(c, "[check.chk]\n"));
  EXPECT_TRUE(has(c, "interval = 2s\ntimeout = 1990ms\nrise = 1\nfall = 1\nweight = -7\n"));
  EXPECT_TRUE(has(c, "keepalived had 3s"));
  EXPECT_TRUE(has(c, "[check.bad_name_]\n"));
  EXPECT_TRUE(has(c, "vrrp_script bad name! (renamed"));
  EXPECT_TRUE(has(c, "command = /usr/bin/test -f \"/run/a b\"\n"));
  EXPECT_TRUE(has(c, "FIXME keepalived line 7: weight ... reverse: failoverd has no reverse "
                     "weights"));
  EXPECT_TRUE(has(c, "user = nobody\n"));
  EXPECT_TRUE(has(c, "user group nogroup: not mapped"));
  EXPECT_TRUE(has(c, "init_fail: as failoverd"));
  EXPECT_TRUE(has(c, "track_script missing: no vrrp_script of that name"));
  const std::string w = joined(r.warnings);
  EXPECT_TRUE(has(w, "weight ... reverse: failoverd has no reverse weights"));
  expect_refused_at(r, 7);
  EXPECT_TRUE(has(w, "track_script missing names no vrrp_script"));
}

TEST(ImportKeepalived, UnwritableValuesAreFixmesNotBrokenLines) {
  const std::string scripts =
      "vrrp_script q {\n  script \"/bin/sh -c 'echo \\\"x\\\"'\"\n}\n"
      "vrrp_script h {\n  script \"/bin/sh -c 'test -f /tmp/#x'\"\n}\n";
  const ImportResult r = import_ok(instance_with(
      "  track_script {\n    q\n    h\n  }\n  notify_backup backup.sh\n", scripts));
  const std::string& c = r.config;
  EXPECT_FALSE(has(c, "command ="));
  EXPECT_TRUE(has(c, "FIXME keepalived line 2: the script of vrrp_script q cannot be written as a "
                     "failoverd command"));
  EXPECT_FALSE(has(c, "backup ="));
  EXPECT_TRUE(has(joined(r.warnings), "notify_backup: failoverd needs an absolute path"));
  expect_refused_at(r, 2);
  EXPECT_EQ(r.warnings.size(), 3u) << joined(r.warnings);
  // No key line holds a '#' (it would start a comment in failoverd's syntax).
  std::istringstream lines(c);
  for (std::string l; std::getline(lines, l);) {
    if (!l.empty() && l[0] != '#') {
      EXPECT_EQ(l.find('#'), std::string::npos) << l;
    }
  }
}

TEST(ImportKeepalived, PeersDedupedAndOwnSourceLeftOut) {
  const ImportResult r = import_ok(instance_with(
      "  unicast_src_ip 10.0.0.1\n  unicast_peer {\n    10.0.0.1\n    10.0.0.2 min_ttl 250\n"
      "    10.0.0.2\n    fd00::2\n  }\n  v3_checksum_as_v2\n"));
  const std::string& c = r.config;
  EXPECT_TRUE(has(c, "source = 10.0.0.1\npeer = 10.0.0.2\nchecksum_pseudo_header = false\n"));
  EXPECT_FALSE(has(c, "peer = 10.0.0.1"));
  EXPECT_TRUE(has(c, "unicast_peer 10.0.0.1 is this host's unicast_src_ip; left out"));
  EXPECT_TRUE(has(c, "10.0.0.2 min_ttl 250: the peer is mapped, its options are not"));
  EXPECT_TRUE(has(c, "unicast_peer 10.0.0.2 is listed twice"));
  EXPECT_TRUE(has(joined(r.warnings), "unicast_peer fd00::2 is not mapped"));
}

TEST(ImportKeepalived, SeveralInstancesTranslateTheFirstOrTheNamedOne) {
  const std::string text = instance_with("  virtual_ipaddress {\n    10.0.0.1/24\n  }\n") +
                           "vrrp_instance VI_2 {\n  interface eth5\n  virtual_router_id 52\n"
                           "  version 3\n}\n";
  ImportResult r = import_ok(text);
  EXPECT_EQ(r.instance, "VI_1");
  EXPECT_EQ(r.other_instances, (std::vector<std::string>{"VI_2"}));
  EXPECT_TRUE(has(r.config, "not translated here: VI_2."));
  EXPECT_TRUE(has(r.config, "failoverctl import-keepalived --vrrp-instance NAME FILE"));
  EXPECT_TRUE(has(joined(r.warnings), "only vrrp_instance VI_1 is translated"));
  ImportOptions o;
  o.vrrp_instance = "VI_2";
  r = import_ok(text, o);
  EXPECT_EQ(r.instance, "VI_2");
  EXPECT_TRUE(has(r.config, "name = VI_2\ninterface = eth5\n"));
  EXPECT_TRUE(has(r.config, "virtual_router_id = 52\n"));
  EXPECT_FALSE(has(r.config, "10.0.0.1/24"));
}

// ---- the known traps and the fuzz findings: keepalived's meaning, or a FIXME the parser refuses ----

TEST(ImportNeverGuesses, FuzzFindingVirtualRouterIdNotANumber) {
  const ImportResult r =
      import_ok("vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51x\n}\n");
  EXPECT_FALSE(has(r.config, "virtual_router_id = 51x"));
  expect_refused_at(r, 3);
  expect_valid(import_ok(instance_with("")));
}

TEST(ImportNeverGuesses, FuzzFindingInterfaceNameTooLong) {
  const ImportResult r = import_ok(
      "vrrp_instance VI_1 {\n  interface ens888888888888888888888888888888888883\n"
      "  virtual_router_id 51\n}\n");
  EXPECT_FALSE(has(r.config, "interface = ens8"));
  expect_refused_at(r, 1);
}

TEST(ImportNeverGuesses, DuplicateAndUnnamedInstancesAreSkippedAsKeepalivedDoes) {
  // vrrp_parser.c (vrrp_handler) skips a second block of the same name and a block without one.
  const std::string text = instance_with("  priority 150\n") +
                           "vrrp_instance VI_1 {\n  interface eth9\n}\n"
                           "vrrp_instance {\n  interface eth8\n}\n";
  const ImportResult r = import_ok(text);
  EXPECT_TRUE(r.other_instances.empty());
  EXPECT_TRUE(has(r.config, "interface = eth0\n"));
  EXPECT_FALSE(has(r.config, "eth9"));
  EXPECT_TRUE(has(joined(r.warnings), "line 8: vrrp_instance VI_1 is defined twice"));
  EXPECT_TRUE(has(joined(r.warnings), "line 11: vrrp_instance without a name"));
  expect_valid(r);
}

TEST(ImportNeverGuesses, RepeatedNotifyAndTrackInterfaceGiveValidOutput) {
  const ImportResult r = import_ok(instance_with(
      "  notify_backup /etc/keepalived/b1.sh\n  notify_backup /etc/keepalived/b2.sh\n"
      "  track_interface {\n    eth1\n    eth1\n  }\n  track_interface eth2\n"));
  EXPECT_TRUE(has(r.config, "backup = /etc/keepalived/b1.sh\n"));  // keepalived keeps the first
  EXPECT_FALSE(has(r.config, "b2.sh\n"));
  EXPECT_TRUE(has(r.config, "track_interface = eth1\ntrack_interface = eth2\n"));
  expect_valid(r);
}

TEST(ImportNeverGuesses, UnicastTtlBelow255IsRefusedAt255ItMaps) {
  // failoverd drops adverts whose TTL is not 255: a keepalived pair a router apart would
  // split if translated silently.
  const ImportResult r = import_ok(instance_with("  unicast_ttl 64\n"));
  expect_refused_at(r, 6);
  EXPECT_TRUE(has(joined(r.warnings), "unicast_ttl 64: failoverd takes adverts with TTL 255 "
                                      "only: delete this line if the peers share a link, else "
                                      "use the udp transport"));
  expect_valid(import_ok(instance_with("  unicast_ttl 255\n")));
}

TEST(ImportNeverGuesses, SmtpAlertWarnsThatNoMailIsSent) {
  const ImportResult r = import_ok(instance_with("  smtp_alert\n"));
  EXPECT_TRUE(has(joined(r.warnings), "line 6: smtp_alert: failoverd sends no mail"));
  expect_valid(r);
}

TEST(ImportNeverGuesses, InitFailIsWhatFailoverdDoesAnyway) {
  const ImportResult r = import_ok(
      instance_with("  track_script {\n    c\n  }\n",
                    "vrrp_script c {\n  script /usr/local/bin/c\n  init_fail\n}\n"));
  EXPECT_TRUE(has(r.config, "init_fail: as failoverd"));
  EXPECT_FALSE(has(r.config, "init_fail: not mapped"));
  expect_valid(r);
}

TEST(ImportNeverGuesses, Defect1ParameterDefinitionsAreRefusedWithTheLine) {
  EXPECT_EQ(import_error("$IFACE=eth0\n" + instance_with("  interface ${IFACE}\n")).line, 1u);
  EXPECT_EQ(import_error(instance_with("") + "~SEQ(VR, 1, 3)\n").line, 7u);
  EXPECT_EQ(import_error(instance_with("  notify_master \"${_PWD}/m.sh\"\n")).line, 6u);
  // A '$' that is not a keepalived definition is kept as it is (keepalived does so too).
  expect_valid(import_ok(instance_with("  track_script {\n    c\n  }\n",
                                       "vrrp_script c {\n  script \"/bin/sh -c 'test $HOME'\"\n}\n")));
}

TEST(ImportNeverGuesses, Defect2ConditionalsResolveForTheHostAndPriorityFallsBackTo100) {
  const std::string text =
      "vrrp_instance VI_1 {\n  state MASTER\n  interface eth0\n  virtual_router_id 9\n"
      "  version 3\n  @lb1 priority 101\n  @^lb1 priority 99\n}\n";
  ImportOptions o;
  o.host = "lb1";
  EXPECT_TRUE(has(import_ok(text, o).config, "priority = 101\n"));
  o.host = "lb2";
  EXPECT_TRUE(has(import_ok(text, o).config, "priority = 99\n"));
  EXPECT_EQ(import_error(text).line, 6u);  // no host named: refused, not guessed
  // An unresolvable priority with state MASTER is 100 in keepalived, not 255.
  const ImportResult r = import_ok(
      "vrrp_instance VI_1 {\n  state MASTER\n  interface eth0\n  virtual_router_id 9\n"
      "  version 3\n  priority high\n}\n");
  EXPECT_TRUE(has(r.config, "priority = 100\n"));
  expect_valid(r);
}

// keepalived 2.x execs a script's words (no shell); 1.x ran the line with /bin/sh -c. Shell
// syntax means what the installed version makes of it: refused.
TEST(ImportNeverGuesses, Defect3ShellSyntaxDependsOnKeepalivedsVersion) {
  const std::string body = "  track_script {\n    chk\n  }\n";
  for (const char* script : {"pidof nginx || exit 1", "test -f /run/nginx.pid && true",
                             "check $HOST", "ls /etc/*.conf"}) {
    SCOPED_TRACE(script);
    const ImportResult r = import_ok(
        instance_with(body, "vrrp_script chk {\n  script \"" + std::string(script) + "\"\n}\n"));
    EXPECT_FALSE(has(r.config, "\ncommand ="));
    expect_refused_at(r, 2);
    EXPECT_TRUE(has(r.config, "keepalived 1.x ran the line with /bin/sh -c")) << r.config;
  }
  // An explicit shell is a program with arguments in every version.
  const ImportResult r = import_ok(instance_with(
      body, "vrrp_script chk {\n  script \"/bin/sh -c 'pidof nginx || exit 1'\"\n}\n"));
  EXPECT_TRUE(has(r.config, "command = /bin/sh -c \"pidof nginx || exit 1\"\n"));
  expect_valid(r);
}

// keepalived's localcheck sample, literally (doc/samples/keepalived.conf.vrrp.localcheck):
// keepalived hands "</dev/tcp/HOST/PORT" to /bin/sh, and bash connects to HOST:PORT.
TEST(ImportNeverGuesses, DevTcpScriptIsATcpCheckAndSaysItNeedsBash) {
  const ImportResult r = import_ok(instance_with(
      "  track_script {\n    chk_http_port\n  }\n",
      "vrrp_script chk_http_port {\n"
      "       script \"</dev/tcp/127.0.0.1/80\" # connects and exits\n"
      "       interval 1                      # check every second\n"
      "       weight -2                       # default prio: -2 if connect fails\n"
      "}\n"));
  expect_valid(r);
  const auto cfg = config::parse_config(r.config);
  ASSERT_TRUE(cfg.has_value());
  ASSERT_EQ(cfg->checks.size(), 1u);
  const config::CheckConfig& c = cfg->checks[0];
  EXPECT_EQ(c.type(), config::CheckType::kTcp);
  EXPECT_EQ(std::get<config::TcpCheckSpec>(c.spec).address, (config::HostPort{"127.0.0.1", 80}));
  // interval, weight, rise and fall as for any script; the timeout below the interval.
  EXPECT_EQ(c.interval, std::chrono::seconds(1));
  EXPECT_EQ(c.timeout, std::chrono::milliseconds(990));
  EXPECT_EQ(c.weight, -2);
  EXPECT_EQ(c.rise, 1);
  EXPECT_EQ(c.fall, 1);
  // Where /bin/sh decides, the output and the warnings say so.
  EXPECT_TRUE(has(r.config, "With bash as /bin/sh")) << r.config;
  EXPECT_TRUE(has(r.config, "with dash as /bin/sh (Debian, Ubuntu) /dev/tcp does not exist and "
                            "keepalived's check failed every time"))
      << r.config;
  EXPECT_TRUE(has(joined(r.warnings), "line 2: vrrp_script chk_http_port: translated as a tcp "
                                      "check of 127.0.0.1:80"));
  // keepalived's script timeout, which ended bash's connect, is the tcp check's timeout.
  const ImportResult t = import_ok(instance_with(
      "  track_script {\n    c\n  }\n",
      "vrrp_script c {\n  script \"</dev/tcp/10.0.0.7/3306\"\n  interval 5\n  timeout 3\n"
      "  rise 2\n  fall 4\n  user mysql\n}\n"));
  expect_valid(t);
  const auto tc = config::parse_config(t.config);
  ASSERT_TRUE(tc.has_value());
  EXPECT_EQ(tc->checks[0].timeout, std::chrono::seconds(3));
  EXPECT_EQ(tc->checks[0].interval, std::chrono::seconds(5));
  EXPECT_EQ(tc->checks[0].rise, 2);
  EXPECT_EQ(tc->checks[0].fall, 4);
  EXPECT_FALSE(has(t.config, "\nuser =")) << t.config;  // a tcp check has no user
  EXPECT_TRUE(has(t.config, "user mysql: a tcp check connects as failoverd's user"));
}

TEST(ImportNeverGuesses, DevTcpFormsThatCannotBeATcpCheckAreRefused) {
  const std::string body = "  track_script {\n    chk\n  }\n";
  for (const char* script :
       {"</dev/tcp/127.0.0.1/http", "</dev/tcp/127.0.0.1", "</dev/udp/10.0.0.1/53",
        "</dev/tcp/127.0.0.1/80 extra", "<nosuchfile", "</dev/tcp/h/99999", "</etc/x;reboot"}) {
    SCOPED_TRACE(script);
    const ImportResult r = import_ok(
        instance_with(body, "vrrp_script chk {\n  script \"" + std::string(script) + "\"\n}\n"));
    EXPECT_FALSE(has(r.config, "\naddress =")) << r.config;
    EXPECT_FALSE(has(r.config, "\ncommand =")) << r.config;
    expect_refused_at(r, 2);
  }
  // IPv6 literals and host names are what bash and the tcp check both resolve.
  ImportResult r = import_ok(instance_with(
      body, "vrrp_script chk {\n  script \"</dev/tcp/::1/8080\"\n}\n"));
  EXPECT_TRUE(has(r.config, "type = tcp\naddress = [::1]:8080\n")) << r.config;
  expect_valid(r);
  r = import_ok(instance_with(body, "vrrp_script chk {\n  script \"</dev/tcp/db.lan/5432\"\n}\n"));
  EXPECT_TRUE(has(r.config, "address = db.lan:5432\n")) << r.config;
  expect_valid(r);
}

// A redirection from a plain file opens it in bash and dash alike: keepalived's own /bin/sh
// line, exactly.
TEST(ImportNeverGuesses, FileRedirectionIsTheSameShellLine) {
  const ImportResult r = import_ok(instance_with(
      "  track_script {\n    chk\n  }\n",
      "vrrp_script chk {\n  script \"</etc/keepalived/enabled\"\n  user nobody\n}\n"));
  expect_valid(r);
  EXPECT_TRUE(has(r.config, "type = exec\n")) << r.config;
  EXPECT_TRUE(has(r.config, "command = /bin/sh -c </etc/keepalived/enabled\n")) << r.config;
  EXPECT_TRUE(has(r.config, "user = nobody\n")) << r.config;
  const auto cfg = config::parse_config(r.config);
  ASSERT_TRUE(cfg.has_value());
  EXPECT_EQ(std::get<config::ExecCheckSpec>(cfg->checks[0].spec).command,
            (std::vector<std::string>{"/bin/sh", "-c", "</etc/keepalived/enabled"}));
}

TEST(ImportNeverGuesses, Defect4UnicastMasksAreStripped) {
  const ImportResult r = import_ok(instance_with(
      "  unicast_src_ip 192.168.50.66/32\n  unicast_peer {\n    192.168.50.37/32\n  }\n"));
  EXPECT_TRUE(has(r.config, "source = 192.168.50.66\npeer = 192.168.50.37\n"));
  expect_valid(r);
}

TEST(ImportNeverGuesses, Defect5NopreemptWithStateMasterIsCleared) {
  const ImportResult r = import_ok(
      "vrrp_instance VI_1 {\n  state MASTER\n  nopreempt\n  preempt_delay 30\n"
      "  interface eth0\n  virtual_router_id 9\n  priority 150\n  version 3\n}\n");
  EXPECT_TRUE(has(r.config, "preempt = true\n"));
  EXPECT_FALSE(has(r.config, "preempt_delay ="));
  expect_valid(r);
}

TEST(ImportNeverGuesses, Defect6NotifyArgumentsAreAFixme) {
  const ImportResult r = import_ok(
      instance_with("  notify_master \"/etc/conntrackd/primary-backup.sh primary\"\n"));
  EXPECT_FALSE(has(r.config, "master = /etc/conntrackd"));
  expect_refused_at(r, 6);
}

TEST(ImportNeverGuesses, Defect7ReverseWeightIsAFixme) {
  const ImportResult r = import_ok(instance_with(
      "  track_script {\n    chk weight 10 reverse\n  }\n",
      "vrrp_script chk {\n  script /usr/bin/true\n}\n"));
  expect_refused_at(r, 1);
}

TEST(ImportNeverGuesses, Defect8SyncGroupMembersAreAFixmeNamingWhatIsLost) {
  const ImportResult r = import_ok(
      "vrrp_sync_group G {\n  group {\n    VI_1\n  }\n  notify_master /etc/g.sh\n}\n" +
      instance_with(""));
  expect_refused_at(r, 1);
  EXPECT_TRUE(has(joined(r.warnings), "line 5: vrrp_sync_group G: notify_master /etc/g.sh is not "
                                      "mapped"));
  // A group the instance is not in does not change its meaning.
  expect_valid(import_ok("vrrp_sync_group H {\n  group {\n    VI_7\n  }\n}\n" + instance_with("")));
}

TEST(ImportNeverGuesses, Defect9AuthenticationWarnsThatAMixedPairCannotWork) {
  const ImportResult r = import_ok(instance_with(
      "  authentication {\n    auth_type PASS\n    auth_pass secret\n  }\n"));
  EXPECT_TRUE(has(joined(r.warnings), "line 6: authentication: a keepalived peer enforcing it "
                                      "drops failoverd's adverts"));
  EXPECT_TRUE(has(joined(r.warnings), "transport = udp"));
}

TEST(ImportNeverGuesses, Defect9AhAndHmacWarnTooAndTheOutputValidates) {
  for (const char* block : {"  authentication {\n    auth_type AH\n    auth_pass k3y\n  }\n",
                            "  auth_hmac {\n    key_file /etc/keepalived/hmac.key\n  }\n"}) {
    SCOPED_TRACE(block);
    const ImportResult r = import_ok(instance_with(block));
    EXPECT_TRUE(has(joined(r.warnings), "line 6: "));
    EXPECT_TRUE(has(joined(r.warnings), "a keepalived peer enforcing it drops failoverd's "
                                        "adverts (a mixed pair cannot work); between failoverd "
                                        "nodes use transport = udp"));
    EXPECT_FALSE(has(r.config, "k3y"));  // the password is not copied anywhere
    expect_valid(r);
  }
}

// The importer writes through config's schema (ini_writer.h): every key line of every output,
// in its section, is a key failoverd knows, and a key that takes one value appears once.
TEST(ImportWritesThroughTheSchema, EveryKeyOfEveryOutputIsInTheSchema) {
  std::vector<std::string> inputs = {samples::kTypical, samples::kLab, samples::kMulticastFast};
  const std::filesystem::path dir = std::filesystem::path(FAILOVERD_TESTDATA_DIR) /
                                    "keepalived-samples";
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().rfind("keepalived.conf.", 0) != 0) continue;
    std::ifstream in(e.path());
    inputs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  inputs.push_back(instance_with("  track_script {\n    a\n    b\n  }\n",
                                 "vrrp_script a {\n  script \"</dev/tcp/10.0.0.1/80\"\n}\n"
                                 "vrrp_script b {\n  script \"</run/ok\"\n  user nobody\n}\n"));
  std::size_t keys = 0;
  for (const std::string& text : inputs) {
    ImportOptions o;
    o.host = "high";
    const auto r = import_keepalived(text, o);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    std::istringstream lines(r->config);
    std::optional<config::SectionKind> kind;
    std::set<std::string> seen;
    for (std::string l; std::getline(lines, l);) {
      if (l.empty() || l[0] == '#' || l.rfind("FIXME ", 0) == 0) continue;
      if (l.front() == '[') {
        const auto k = config::section_kind(l.substr(1, l.size() - 2));
        ASSERT_TRUE(k.has_value()) << l;
        kind = *k;
        seen.clear();
        continue;
      }
      const auto eq = l.find(" = ");
      ASSERT_NE(eq, std::string::npos) << l;
      ASSERT_TRUE(kind.has_value()) << "a key before any section: " << l;
      const config::KeySpec* spec = config::find_key(*kind, l.substr(0, eq));
      ASSERT_NE(spec, nullptr) << l << "\n" << r->config;
      EXPECT_TRUE(spec->repeatable || seen.insert(l.substr(0, eq)).second) << l;
      ++keys;
    }
  }
  EXPECT_GT(keys, 200u);
}

TEST(ImportNeverGuesses, Defect10IncludeIsRefusedWithTheLineEvenInsideAnInstance) {
  EXPECT_EQ(import_error("include /etc/keepalived/conf.d/*.conf\n" + instance_with("")).line, 1u);
  EXPECT_EQ(import_error(instance_with("  include vips.conf\n")).line, 6u);
}

TEST(ImportNeverGuesses, Defect11SmallerOnes) {
  // advert_int: VRRPv2 whole seconds; below 10ms keepalived ignores the value (1s).
  ImportResult r = import_ok("vrrp_instance A {\n  interface eth0\n  virtual_router_id 3\n"
                             "  advert_int 0.5\n}\n");
  EXPECT_TRUE(has(r.config, "advert_interval = 1s\n"));
  r = import_ok(instance_with("  advert_int 0.005\n"));
  EXPECT_TRUE(has(r.config, "advert_interval = 1s\n"));
  // mcast_dst_ip without peers: failoverd cannot send there.
  r = import_ok(instance_with("  mcast_dst_ip 224.0.0.19\n"));
  EXPECT_FALSE(has(r.config, "adverts go to multicast 224.0.0.18, as in keepalived"));
  expect_refused_at(r, 6);
  // An explicit timeout >= interval is shortened with a warning.
  r = import_ok(instance_with("  track_script {\n    c\n  }\n",
                              "vrrp_script c {\n  script /usr/bin/true\n  interval 2\n  "
                              "timeout 2\n}\n"));
  EXPECT_TRUE(has(joined(r.warnings), "vrrp_script c: timeout shortened to 1990ms"));
}

// ---- robustness ----

class Fuzzer {
 public:
  explicit Fuzzer(std::uint32_t seed) : rng_(seed) {}
  std::size_t below(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  char byte() { return static_cast<char>(below(256)); }
  // Bytes biased towards keepalived's syntax, so the parser gets past the first line.
  char syntax_byte() {
    static constexpr std::string_view kChars = "{}\"'#!\\\n \t/.0123456789abcdefvrpistn_@$";
    return below(3) == 0 ? byte() : kChars[below(kChars.size())];
  }
  std::string random_text(std::size_t max_len) {
    std::string s(below(max_len + 1), '\0');
    for (auto& c : s) c = syntax_byte();
    return s;
  }
  // A few edits: change, insert, erase, duplicate a slice, truncate.
  std::string mutate(std::string in) {
    const std::size_t edits = 1 + below(6);
    for (std::size_t k = 0; k < edits; ++k) {
      switch (below(5)) {
        case 0:
          if (!in.empty()) in[below(in.size())] = syntax_byte();
          break;
        case 1:
          in.insert(in.begin() + static_cast<long>(below(in.size() + 1)), syntax_byte());
          break;
        case 2:
          if (!in.empty()) in.erase(below(in.size()), 1 + below(8));
          break;
        case 3:
          if (!in.empty()) {
            const std::size_t from = below(in.size());
            in.insert(below(in.size() + 1), in.substr(from, 1 + below(40)));
          }
          break;
        case 4: in.resize(below(in.size() + 1)); break;
      }
    }
    return in;
  }

 private:
  std::mt19937 rng_;
};

std::size_t line_count(std::string_view s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')) + 1;
}

// Every input gives a config or an error with a message and a line inside the input; a config
// never has a key line with a control character or '#'.
void expect_total(std::string_view text) {
  auto r = import_keepalived(text);
  if (!r) {
    EXPECT_FALSE(r.error().message.empty());
    EXPECT_LE(r.error().line, line_count(text));
    return;
  }
  std::istringstream lines(r->config);
  for (std::string l; std::getline(lines, l);) {
    for (const char c : l) ASSERT_TRUE(c >= 0x20 && c < 0x7f) << "in line: " << l;
    if (!l.empty() && l[0] != '#') {
      ASSERT_EQ(l.find('#'), std::string::npos) << l;
    }
  }
}

// Found by translating keepalived's own doc/samples (tests/data/keepalived-samples): options
// that validated as comments but leave the host different from what keepalived made of it.
TEST(ImportNeverGuesses, WhatKeepalivedDoesBeyondTheElectionIsAFixme) {
  // A virtual IP on another device than `interface`: failoverd would put it on the wrong link.
  expect_refused_at(import_ok(instance_with("  virtual_ipaddress {\n    10.0.0.5/24 dev eth1\n"
                                            "  }\n")),
                    7);
  // The same device as `interface` is what failoverd does.
  expect_valid(import_ok(instance_with("  virtual_ipaddress {\n    10.0.0.5/24 dev eth0\n  }\n")));
  // Routes and rules keepalived adds on MASTER.
  expect_refused_at(import_ok(instance_with("  virtual_routes {\n    10.9.0.0/16 via 10.0.0.1\n"
                                            "  }\n")),
                    6);
  expect_refused_at(import_ok(instance_with("  virtual_rules {\n    from 10.0.0.5 table 7\n"
                                            "  }\n")),
                    6);
  // A weighted tracked interface changes the priority in keepalived, FAULTs in failoverd.
  const ImportResult weighted = import_ok(instance_with("  track_interface {\n    eth1\n"
                                                        "    eth2 weight 20\n  }\n"));
  expect_refused_at(weighted, 8);
  EXPECT_TRUE(has(weighted.config, "track_interface = eth1\n"));
  EXPECT_FALSE(has(weighted.config, "track_interface = eth2"));
  // "weight 0" is FAULT in both.
  expect_valid(import_ok(instance_with("  track_interface {\n    eth2 weight 0\n  }\n")));
  // Addresses, routes and the namespace keepalived sets up at start, whatever its state.
  expect_refused_at(import_ok(instance_with("", "static_routes {\n  10.8.0.0/16 dev eth3\n}\n")),
                    1);
  expect_refused_at(
      import_ok(instance_with("", "static_ipaddress {\n  192.168.1.1/24 dev eth0\n}\n")), 1);
  expect_refused_at(import_ok(instance_with("", "net_namespace blue\n")), 1);
  expect_refused_at(import_ok(instance_with("", "global_defs {\n  net_namespace blue\n}\n")), 2);
  // Load balancing and the IPVS sync daemon stay keepalived's.
  expect_refused_at(
      import_ok(instance_with("") + "virtual_server 10.0.0.5 80 {\n  lb_algo rr\n}\n"), 7);
  expect_refused_at(import_ok(instance_with("  lvs_sync_daemon_interface eth1\n")), 6);
}

// The keywords of keepalived's vrrp_parser.c that would otherwise validate as comments while
// keepalived did something failoverd will not (docs/migrating-from-keepalived.md, refused).
TEST(ImportNeverGuesses, KeywordsWithoutAnEquivalentAreFixmes) {
  for (const char* body : {"  track_file f weight 10\n", "  track_process p\n",
                           "  track_bfd b\n", "  dont_track_primary\n", "  vrf blue\n",
                           "  native_ipv6\n", "  no_accept\n", "  strict_mode\n",
                           "  down_timer_adverts 5\n", "  notify /etc/keepalived/n.sh\n",
                           "  notify_deleted /etc/keepalived/d.sh\n",
                           "  notify_master_rx_lower_pri /etc/keepalived/l.sh\n",
                           "  virtual_ipaddress {\n    2001:db8::5/64\n  }\n"}) {
    SCOPED_TRACE(body);
    const ImportResult r = import_ok(instance_with(body));
    expect_refused_at(r, std::string(body).find('{') == std::string::npos ? 6 : 7);
  }
  // down_timer_adverts 3 is failoverd's (and keepalived's default) wait.
  expect_valid(import_ok(instance_with("  down_timer_adverts 3\n")));
  // global_defs: strict mode, the notify FIFO; a multicast group other than 224.0.0.18 matters
  // only without unicast peers.
  expect_refused_at(import_ok(instance_with("", "global_defs {\n  vrrp_strict\n}\n")), 2);
  expect_refused_at(
      import_ok(instance_with("", "global_defs {\n  notify_fifo /run/ka.fifo\n}\n")), 2);
  expect_refused_at(import_ok(instance_with(
                        "", "global_defs {\n  vrrp_notify_fifo_script /usr/local/bin/r\n}\n")),
                    2);
  for (const char* line : {"vrrp_down_timer_adverts 4", "startup_script /usr/local/bin/up",
                           "shutdown_script /usr/local/bin/down", "vrrp_startup_delay 30",
                           "vrrp_delay_after_boot 60"}) {
    SCOPED_TRACE(line);
    expect_refused_at(
        import_ok(instance_with("", "global_defs {\n  " + std::string(line) + "\n}\n")), 2);
  }
  expect_valid(import_ok(instance_with("", "global_defs {\n  vrrp_down_timer_adverts 3\n}\n")));
  const std::string group = "global_defs {\n  vrrp_mcast_group4 224.0.0.19\n}\n";
  expect_refused_at(import_ok(instance_with("", group)), 2);
  expect_valid(import_ok(instance_with("  unicast_peer {\n    10.0.0.2\n  }\n", group)));
  expect_valid(import_ok(
      instance_with("", "global_defs {\n  vrrp_mcast_group4 224.0.0.18\n}\n")));
}

TEST(ImportFuzz, RandomAndMutatedInputsNeverCrash) {
  const auto start = std::chrono::steady_clock::now();
  Fuzzer f(20240515);
  const std::vector<std::string> seeds = {samples::kTypical, samples::kLab,
                                          samples::kMulticastFast};
  int cases = 0;
  for (int i = 0; i < 2000; ++i, ++cases) expect_total(f.random_text(300));
  for (int i = 0; i < 6000; ++i, ++cases) expect_total(f.mutate(seeds[f.below(seeds.size())]));
  // Mutations of mutations reach deeper into the mapping.
  std::string drift = samples::kTypical;
  for (int i = 0; i < 2000; ++i, ++cases) {
    drift = f.mutate(drift);
    if (drift.size() > 4000 || f.below(50) == 0) drift = samples::kTypical;
    expect_total(drift);
  }
  EXPECT_EQ(cases, 10000);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST(ImportFuzz, PathologicalShapes) {
  expect_total(std::string(100000, '{'));
  expect_total(std::string(100000, '}'));
  expect_total(std::string(100000, '"'));
  expect_total(std::string(100000, '\n'));
  expect_total(std::string("vrrp_instance A {\n") + std::string(20000, 'x') + "\n}\n");
  expect_total(std::string("vrrp_instance ") + std::string(1, '\0') + " {\n  interface \xff\n}\n");
  std::string many = "vrrp_instance A {\n  virtual_ipaddress {\n";
  for (int i = 0; i < 5000; ++i) many += "    10.0." + std::to_string(i / 250) + "." +
                                         std::to_string(i % 250 + 1) + "/24\n";
  many += "  }\n}\n";
  expect_total(many);
  EXPECT_EQ(import_keepalived(std::string(kMaxKeepalivedBytes + 1, ' ')).error().line, 0u);
}

// 10 MB (under the 16 MiB cap) in the shapes that could cost more than linear time: one long
// line, a long block of repeated keywords, and many instances. Each must translate (or fail)
// with its line; the ctest timeout is the bound.
TEST(ImportFuzz, TenMegabytesInAnyShape) {
  constexpr std::size_t kTen = 10'000'000;
  expect_total("vrrp_instance A {\n  interface " + std::string(kTen, 'e') + "\n}\n");
  std::string repeated = "vrrp_instance A {\n  interface eth0\n  virtual_router_id 9\n";
  while (repeated.size() < kTen) repeated += "  garp_master_delay 1\n  track_interface eth1\n";
  repeated += "}\n";
  const auto r = import_keepalived(repeated);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_NE(r->config.find("track_interface = eth1\n"), std::string::npos);
  std::string instances;
  for (int i = 0; instances.size() < kTen; ++i) {
    instances += "vrrp_instance VI_" + std::to_string(i) + " {\n  interface eth0\n}\n";
  }
  std::size_t count = 0;
  for (std::size_t at = 0; (at = instances.find("vrrp_instance", at)) != std::string::npos; ++at)
    ++count;
  const auto many = import_keepalived(instances);  // the first is translated, the rest listed
  ASSERT_TRUE(many) << many.error().to_string();
  EXPECT_NE(many->config.find("interface = eth0\n"), std::string::npos);
  EXPECT_EQ(many->other_instances.size(), count - 1);
}

}  // namespace
}  // namespace failoverd::importer
