// keepalived's own configuration samples (tests/data/keepalived-samples, copied unmodified from
// acassen/keepalived doc/samples) through the importer and the real config parser. Each row
// says what keepalived makes of a sample: the key facts of the instance, and either "the
// output validates" or exactly which input lines become FIXMEs that --check-config refuses,
// with the reason. No sample may crash, hang, or validate while meaning something else.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "failoverd/config/config.h"
#include "failoverd/importer/keepalived_import.h"

namespace failoverd::importer {
namespace {

namespace fs = std::filesystem;

const fs::path kSamples = fs::path(FAILOVERD_TESTDATA_DIR) / "keepalived-samples";

std::string read_sample(const std::string& name) {
  std::ifstream in(kSamples / name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The key facts of a translation, read from the output's keys (FIXME lines skipped), so that
// they can be compared whether or not the output validates.
struct Facts {
  std::string interface;
  std::string vrid;
  std::string priority;
  std::vector<std::string> vips;
  std::vector<std::string> peers;
  // "NAME: COMMAND", "NAME: tcp HOST:PORT" for a tcp check, "NAME:" when there is neither
  std::vector<std::string> checks;

  bool operator==(const Facts&) const = default;
};

std::ostream& operator<<(std::ostream& o, const Facts& f) {
  o << "interface=" << f.interface << " vrid=" << f.vrid << " priority=" << f.priority
    << " vips=";
  for (const auto& v : f.vips) o << v << ",";
  o << " peers=";
  for (const auto& p : f.peers) o << p << ",";
  o << " checks=";
  for (const auto& c : f.checks) o << "[" << c << "]";
  return o;
}

Facts facts_of(const std::string& config) {
  Facts f;
  std::istringstream in(config);
  std::string section;
  std::map<std::string, std::string> command;  // check name -> command
  std::vector<std::string> check_order;
  for (std::string line; std::getline(in, line);) {
    if (line.size() > 2 && line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
      if (section.rfind("check.", 0) == 0) check_order.push_back(section.substr(6));
      continue;
    }
    const auto eq = line.find(" = ");
    if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
    const std::string k = line.substr(0, eq);
    const std::string v = line.substr(eq + 3);
    if (section == "instance" && k == "interface") f.interface = v;
    if (section == "vrrp" && k == "virtual_router_id") f.vrid = v;
    if (section == "vrrp" && k == "priority") f.priority = v;
    if (section == "vrrp" && k == "peer") f.peers.push_back(v);
    if (section == "virtual_ip" && k == "address") f.vips.push_back(v);
    if (section.rfind("check.", 0) == 0 && k == "command") command[section.substr(6)] = v;
    if (section.rfind("check.", 0) == 0 && k == "address") command[section.substr(6)] = "tcp " + v;
  }
  for (const auto& c : check_order) {
    f.checks.push_back(c + ":" + (command.count(c) ? " " + command[c] : ""));
  }
  return f;
}

// What failoverd --check-config's parser says ("" when the output validates).
std::string problems_of(const std::string& config) {
  const auto parsed = config::parse_config(config);
  if (parsed) return "";
  std::string out;
  for (const auto& p : parsed.error()) out += p.to_string() + "\n";
  return out;
}

// The input lines the output's FIXME lines name, and each FIXME line's text.
std::map<int, std::vector<std::string>> fixmes_of(const std::string& config) {
  std::map<int, std::vector<std::string>> out;
  std::istringstream in(config);
  const std::string prefix = "FIXME keepalived line ";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    out[std::stoi(line.substr(prefix.size()))].push_back(line);
  }
  return out;
}

struct Row {
  const char* sample;  // file name under tests/data/keepalived-samples
  std::optional<std::string> instance;  // --vrrp-instance; nullopt: the first
  std::optional<std::string> host;      // --host
  Facts facts;
  // Empty: a faithful translation that validates. Otherwise every input line that becomes a
  // FIXME, with (a prefix of) the reason that follows "FIXME keepalived line N: ".
  std::vector<std::pair<int, std::string>> refused;
};

const std::vector<Row>& rows() {
  static const std::vector<Row> kRows = {
      // VRRPv2 (keepalived's default; a warning) and AH authentication (a warning: a mixed pair
      // cannot work); the HTTPS load balancing is keepalived's alone.
      {"keepalived.conf.SSL_GET", {}, {},
       {"eth0", "51", "100", {"192.168.200.16/32", "192.168.200.17/32", "192.168.200.18/32"},
        {}, {}},
       {{30, "virtual_server: failoverd does not do load balancing"}}},
      // Run as keepalived -i high: the @high lines apply; use_vmac keeps a virtual MAC that
      // failoverd does not.
      {"keepalived.conf.conditional_conf", {}, "high",
       {"eth0", "1", "170", {"10.1.0.254/32"}, {},
        {"check_VI_0: /etc/keepalived/scripts/check_high_VI_0.sh"}},
       {{3, "net_namespace: keepalived runs in network namespace high"},
        {23, "use_vmac: keepalived answers for the virtual IPs from a virtual MAC"},
        {29, "track_interface eth2 weight 20: failoverd puts the instance in FAULT"}}},
      {"keepalived.conf.conditional_conf", {}, "low",
       {"eth0", "1", "85", {"10.1.0.254/32"}, {},
        {"check_VI_0: /etc/keepalived/scripts/check_low_VI_0.sh"}},
       {{4, "net_namespace: keepalived runs in network namespace low"},
        {23, "use_vmac: keepalived answers for the virtual IPs from a virtual MAC"},
        {29, "track_interface eth2 weight 20: failoverd puts the instance in FAULT"}}},
      // A host in neither: no priority line (100) and a vrrp_script without a script, which
      // keepalived drops.
      {"keepalived.conf.conditional_conf", {}, "other",
       {"eth0", "1", "100", {"10.1.0.254/32"}, {}, {"check_VI_0:"}},
       {{6, "vrrp_script check_VI_0 has no script"},
        {23, "use_vmac: keepalived answers for the virtual IPs from a virtual MAC"},
        {29, "track_interface eth2 weight 20: failoverd puts the instance in FAULT"}}},
      {"keepalived.conf.sample", {}, {},
       {"eth0", "50", "100", {"192.168.200.11/32", "192.168.200.12/32", "192.168.200.13/32"},
        {}, {}},
       {{26, "virtual_server: failoverd does not do load balancing"}}},
      // Addresses on eth1/eth2 while the instance runs on eth0.1, routes, static routes.
      {"keepalived.conf.track_interface", {}, {},
       {"eth0.1", "51", "100",
        {"192.168.200.16/32", "192.168.200.17/32", "192.168.200.18/32"}, {}, {}},
       {{7, "static_routes: keepalived adds these at start"},
        {25, "virtual IP 192.168.200.17 is on eth1 in keepalived"},
        {26, "virtual IP 192.168.200.18 is on eth2 in keepalived"},
        {28, "virtual_routes: failoverd does not add routes"}}},
      // Faithful: state MASTER with priority 100 is an ordinary priority; labels are comments.
      {"keepalived.conf.vrrp", {}, {},
       {"eth0", "51", "100", {"192.168.200.16/32", "192.168.200.17/32", "192.168.200.18/32"},
        {}, {}},
       {}},
      {"keepalived.conf.vrrp", "VI_2", {},
       {"eth0", "50", "50", {"192.168.200.13/32", "192.168.200.14/32", "192.168.200.15/32"},
        {}, {}},
       {}},
      // "</dev/tcp/..." is bash through /bin/sh: tcp checks (with dash, keepalived's always
      // failed: said in the output); weighted tracked interfaces change the priority in
      // keepalived.
      {"keepalived.conf.vrrp.localcheck", {}, {},
       {"eth0", "51", "100", {"192.168.200.18/25"}, {},
        {"chk_sshd: killall -0 sshd", "chk_haproxy: killall -0 haproxy",
         "chk_http_port: tcp 127.0.0.1:80", "chk_https_port: tcp 127.0.0.1:443",
         "chk_smtp_port: tcp 127.0.0.1:25"}},
       {{51, "track_interface eth1 weight 2: failoverd puts the instance in FAULT"},
        {52, "track_interface eth2 weight -2: failoverd puts the instance in FAULT"}}},
      {"keepalived.conf.vrrp.localcheck", "VI_3", {},
       {"eth0", "53", "100", {"192.168.200.19/27"}, {}, {}}, {}},
      // The sample's vrrp_sync_group lists VI_2 and VI_3 outside a group block, which
      // keepalived does not read as members: only the IPVS parts are lost.
      {"keepalived.conf.vrrp.lvs_syncd", {}, {},
       {"eth0", "51", "150", {"192.168.200.16/32", "192.168.200.17/32", "192.168.200.18/32"},
        {}, {}},
       {{11, "lvs_sync_daemon_interface: keepalived runs the IPVS sync daemon"},
        {50, "virtual_server: failoverd does not do load balancing"}}},
      {"keepalived.conf.vrrp.routes", {}, {},
       {"eth0", "51", "100", {"192.168.200.16/32", "192.168.200.17/32", "192.168.200.18/32"},
        {}, {}},
       {{7, "static_routes: keepalived adds these at start"},
        {22, "virtual IP 192.168.200.17 is on eth1 in keepalived"},
        {23, "virtual IP 192.168.200.18 is on eth2 in keepalived"},
        {25, "virtual_routes: failoverd does not add routes"}}},
      {"keepalived.conf.vrrp.rules", {}, {},
       {"eth0", "51", "100", {"192.168.200.16/32", "192.168.200.17/32", "192.168.200.18/32"},
        {}, {}},
       {{9, "static_rules: keepalived adds these at start"},
        {21, "virtual IP 192.168.200.17 is on eth1 in keepalived"},
        {22, "virtual IP 192.168.200.18 is on eth2 in keepalived"},
        {24, "virtual_rules: failoverd does not add routes"}}},
      // Hooks with arguments ("/usr/local/bin/vrrp.sh BACKUP VI_1") cannot be passed.
      {"keepalived.conf.vrrp.scripts", {}, {},
       {"eth0", "51", "100", {"192.168.200.16/32", "192.168.200.17/32", "192.168.200.18/32"},
        {}, {}},
       {{32, "notify_backup has arguments that failoverd cannot pass"},
        {33, "notify_master has arguments that failoverd cannot pass"},
        {34, "notify_fault has arguments that failoverd cannot pass"}}},
      {"keepalived.conf.vrrp.scripts", "VI_2", {},
       {"eth0", "52", "150", {"192.168.200.100/27"}, {}, {}},
       {{6, "vrrp_instance VI_2 is in vrrp_sync_group G1"}}},
      {"keepalived.conf.vrrp.static_ipaddress", {}, {},
       {"eth0", "51", "100", {"192.168.200.20/32"}, {}, {}},
       {{7, "static_ipaddress: keepalived adds these at start"},
        {21, "virtual_routes: failoverd does not add routes"}}},
      {"keepalived.conf.vrrp.sync", {}, {},
       {"eth0", "51", "100", {"192.168.200.18/25"}, {}, {}},
       {{3, "vrrp_instance VI_1 is in vrrp_sync_group G1"}}},
      {"keepalived.conf.vrrp.sync", "VI_3", {},
       {"eth0", "53", "100", {"192.168.200.19/27"}, {}, {}},
       {{18, "vrrp_instance VI_3 is in vrrp_sync_group G2"}}},
  };
  return kRows;
}

std::string row_name(const Row& row) {
  return std::string(row.sample) + (row.instance ? " --vrrp-instance " + *row.instance : "") +
         (row.host ? " --host " + *row.host : "");
}

TEST(KeepalivedDocSamples, EachTranslatesFaithfullyOrIsRefusedAtTheNamedLines) {
  for (const Row& row : rows()) {
    SCOPED_TRACE(row_name(row));
    ImportOptions options;
    options.vrrp_instance = row.instance;
    options.host = row.host;
    const auto r = import_keepalived(read_sample(row.sample), options);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    EXPECT_EQ(facts_of(r->config), row.facts) << r->config;
    const std::string problems = problems_of(r->config);
    const auto fixmes = fixmes_of(r->config);
    if (row.refused.empty()) {
      EXPECT_EQ(problems, "") << r->config;
      EXPECT_TRUE(fixmes.empty()) << r->config;
      continue;
    }
    std::set<int> expected_lines;
    for (const auto& [line, reason] : row.refused) {
      expected_lines.insert(line);
      const std::string head = "FIXME keepalived line " + std::to_string(line) + ": ";
      // --check-config names the FIXME line itself (it shows the start of it).
      EXPECT_NE(problems.find("\"" + head), std::string::npos) << line << ":\n" << problems;
      bool found = false;
      if (const auto it = fixmes.find(line); it != fixmes.end()) {
        for (const auto& text : it->second) found = found || text.rfind(head + reason, 0) == 0;
      }
      EXPECT_TRUE(found) << "no FIXME for line " << line << " starting \"" << reason << "\"\n"
                         << r->config;
    }
    std::set<int> got_lines;
    for (const auto& [line, texts] : fixmes) got_lines.insert(line);
    EXPECT_EQ(got_lines, expected_lines) << r->config;
  }
}

// Every sample is in the table, and every vrrp_instance of every sample (for each host the
// table uses) imports without error into an output that validates or holds a FIXME.
TEST(KeepalivedDocSamples, EveryInstanceOfEverySampleValidatesOrIsRefused) {
  std::set<std::string> in_table;
  for (const Row& row : rows()) in_table.insert(row.sample);
  std::size_t samples = 0;
  for (const auto& entry : fs::directory_iterator(kSamples)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("keepalived.conf.", 0) != 0) continue;
    ++samples;
    EXPECT_EQ(in_table.count(name), 1u) << name << " has no row in the table";
    const std::string text = read_sample(name);
    const auto tree = parse_keepalived(text, std::string("high"));
    ASSERT_TRUE(tree.has_value()) << name << ": " << tree.error().to_string();
    for (const auto& node : *tree) {
      if (node.words[0] != "vrrp_instance" || node.words.size() < 2) continue;
      for (const char* host : {"high", "low", "other"}) {
        SCOPED_TRACE(name + " --vrrp-instance " + node.words[1] + " --host " + host);
        ImportOptions options;
        options.vrrp_instance = node.words[1];
        options.host = host;
        const auto r = import_keepalived(text, options);
        ASSERT_TRUE(r.has_value()) << r.error().to_string();
        const std::string problems = problems_of(r->config);
        if (!problems.empty()) {
          EXPECT_FALSE(fixmes_of(r->config).empty())
              << "refused without a FIXME:\n" << problems << r->config;
        }
      }
    }
  }
  EXPECT_EQ(samples, in_table.size());
  EXPECT_GE(samples, 12u);
}

// keepalived.conf(5), "Conditional configuration": one file for three hosts, each with its own
// unicast_src_ip and the other two as peers. The man page's example, with its "..." filled
// in so that it is a whole instance.
TEST(KeepalivedManPage, ConditionalConfigurationExample) {
  const std::string text =
      "global_defs {\n"
      "    @main   router_id main_router\n"
      "    @backup router_id backup_router\n"
      "}\n"
      "vrrp_instance VRRP {\n"
      "    interface eth0\n"
      "    virtual_router_id 7\n"
      "    version 3\n"
      "    @main    unicast_src_ip 1.2.3.4\n"
      "    @backup  unicast_src_ip 1.2.3.5\n"
      "    @backup2 unicast_src_ip 1.2.3.6\n"
      "    unicast_peer {\n"
      "        @^main    1.2.3.4\n"
      "        @^backup  1.2.3.5\n"
      "        @^backup2 1.2.3.6\n"
      "    }\n"
      "}\n";
  struct Case {
    const char* host;
    const char* source;  // "" = none
    std::vector<std::string> peers;
  };
  // "The unicast peers for main will be 1.2.3.5 and 1.2.3.6."
  for (const Case& c : {Case{"main", "1.2.3.4", {"1.2.3.5", "1.2.3.6"}},
                        Case{"backup", "1.2.3.5", {"1.2.3.4", "1.2.3.6"}},
                        Case{"backup2", "1.2.3.6", {"1.2.3.4", "1.2.3.5"}},
                        Case{"other", "", {"1.2.3.4", "1.2.3.5", "1.2.3.6"}}}) {
    SCOPED_TRACE(c.host);
    ImportOptions options;
    options.host = c.host;
    const auto r = import_keepalived(text, options);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    const auto cfg = config::parse_config(r->config);
    ASSERT_TRUE(cfg.has_value()) << problems_of(r->config) << r->config;
    EXPECT_EQ(cfg->vrrp.source ? cfg->vrrp.source->to_string() : "", c.source);
    std::vector<std::string> peers;
    for (const auto& p : cfg->vrrp.peers) peers.push_back(p.to_string());
    EXPECT_EQ(peers, c.peers);
    // router_id only names the node in keepalived's logs and mails: a comment either way.
    EXPECT_EQ(r->config.find("router_id main_router") != std::string::npos,
              std::string(c.host) == "main");
  }
}

}  // namespace
}  // namespace failoverd::importer
