#include "failoverd/config/config.h"

#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "failoverd/core/instance.h"
#include "test_util.h"

namespace failoverd::config {
namespace {

using namespace std::chrono_literals;
using testing::kMinimal;
using testing::minimal_plus;
using testing::parse_ok;
using testing::problems;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

util::Ipv4 ip(const char* s) { return *util::Ipv4::parse(s); }

// The full example of the configuration contract (failoverd.conf(5)), with two changes: the
// notify hooks written there as "..." are real paths, and transport is udp, because the example sets port and
// auth_key_file, which are for transport udp only (with transport vrrp each is a problem).
constexpr std::string_view kDesignExample = R"(
[instance]
name = web                     # logs, metrics, control socket name
interface = eth1               # heartbeats go out here; VIPs are added here
track_interface = eth0         # repeatable; link down -> FAULT (netlink events)

[vrrp]
virtual_router_id = 51         # 1..255, the same on every peer
priority = 150                 # 1..254; 255 = address owner
advert_interval = 1s           # 10ms..40.95s, centisecond resolution (VRRPv3)
preempt = true
preempt_delay = 0s
transport = udp                # vrrp: IP protocol 112 | udp: UDP with HMAC authentication
peer = 10.114.0.5              # repeatable; none = multicast 224.0.0.18 (vrrp transport only)
source = 10.114.0.4            # optional; default: first IPv4 address of `interface`
port = 5798                    # udp transport only
auth_key_file = /etc/failoverd/web.key   # udp transport: required, mode 0600
checksum_pseudo_header = true  # IPv4 checksum: true = keepalived/FRR default, false = RFC 9568

[check.containers]             # every [check.NAME] section is one health check
type = docker                  # docker | http | tcp | exec
socket = /var/run/docker.sock
min_running = 10
label = com.docker.compose.project=minitwit   # repeatable filters
interval = 2s
timeout = 1s
rise = 2
fall = 3
weight = 0                     # 0: failing puts the instance in FAULT; otherwise added to priority

[reserved_ip]
provider = digitalocean        # digitalocean | hetzner | cloudflare | exec | none
address = 203.0.113.10
token_file = /etc/failoverd/do.token     # mode 0600; or a systemd credential
droplet_id = auto              # auto: read from the metadata service
api_url = https://api.digitalocean.com   # overridable, for tests and the demo
metadata_url = http://169.254.169.254

[virtual_ip]
address = 10.0.0.100/24        # repeatable; added on MASTER with gratuitous ARP, removed otherwise

[notify]
master = /etc/failoverd/master.sh        # argv: INSTANCE STATE PRIORITY
backup = /etc/failoverd/backup.sh
fault = /etc/failoverd/fault.sh
stop = /etc/failoverd/stop.sh
timeout = 30s

[control]
socket = /run/failoverd/web.sock

[metrics]
listen = 127.0.0.1:9798        # Prometheus text format; off when unset
)";

TEST(ConfigTest, DesignExampleParses) {
  const Config c = parse_ok(kDesignExample);
  EXPECT_EQ(c.instance.name, "web");
  EXPECT_EQ(c.instance.interface, "eth1");
  EXPECT_THAT(c.instance.track_interfaces, ElementsAre("eth0"));
  EXPECT_EQ(c.vrrp.virtual_router_id, 51);
  EXPECT_EQ(c.vrrp.priority, 150);
  EXPECT_EQ(c.vrrp.advert_interval, 1s);
  EXPECT_TRUE(c.vrrp.preempt);
  EXPECT_EQ(c.vrrp.preempt_delay, 0s);
  EXPECT_EQ(c.vrrp.transport, Transport::kUdp);
  EXPECT_THAT(c.vrrp.peers, ElementsAre(ip("10.114.0.5")));
  EXPECT_EQ(c.vrrp.source, ip("10.114.0.4"));
  EXPECT_EQ(c.vrrp.port, 5798);
  EXPECT_EQ(c.vrrp.auth_key_file, "/etc/failoverd/web.key");
  EXPECT_TRUE(c.vrrp.checksum_pseudo_header);

  ASSERT_EQ(c.checks.size(), 1u);
  const CheckConfig& check = c.checks[0];
  EXPECT_EQ(check.name, "containers");
  ASSERT_EQ(check.type(), CheckType::kDocker);
  const auto& docker = std::get<DockerCheckSpec>(check.spec);
  EXPECT_EQ(docker.socket, "/var/run/docker.sock");
  EXPECT_EQ(docker.min_running, 10);
  EXPECT_THAT(docker.labels, ElementsAre("com.docker.compose.project=minitwit"));
  EXPECT_FALSE(docker.name.has_value());
  EXPECT_EQ(check.interval, 2s);
  EXPECT_EQ(check.timeout, 1s);
  EXPECT_EQ(check.rise, 2);
  EXPECT_EQ(check.fall, 3);
  EXPECT_EQ(check.weight, 0);

  EXPECT_EQ(c.reserved_ip.provider, Provider::kDigitalOcean);
  EXPECT_EQ(c.reserved_ip.address, ip("203.0.113.10"));
  EXPECT_EQ(c.reserved_ip.token_file, "/etc/failoverd/do.token");
  EXPECT_FALSE(c.reserved_ip.droplet_id.has_value());
  EXPECT_EQ(c.reserved_ip.api_url, "https://api.digitalocean.com");
  EXPECT_EQ(c.reserved_ip.metadata_url, "http://169.254.169.254");
  EXPECT_EQ(c.reserved_ip.reconcile_interval, 30s);

  ASSERT_EQ(c.virtual_ip.addresses.size(), 1u);
  EXPECT_EQ(c.virtual_ip.addresses[0].to_string(), "10.0.0.100/24");
  EXPECT_EQ(c.notify.master, "/etc/failoverd/master.sh");
  EXPECT_EQ(c.notify.stop, "/etc/failoverd/stop.sh");
  EXPECT_EQ(c.notify.timeout, 30s);
  EXPECT_EQ(c.control.socket, "/run/failoverd/web.sock");
  EXPECT_EQ(c.metrics.listen, "127.0.0.1:9798");
}

TEST(ConfigTest, DesignExampleAsWrittenRefusesUdpKeysWithTransportVrrp) {
  std::string text(kDesignExample);
  text.replace(text.find("transport = udp"), 15, "transport = vrrp");
  EXPECT_THAT(problems(text),
              ElementsAre("[vrrp] auth_key_file: is only used with transport udp (transport is "
                          "vrrp)",
                          "[vrrp] port: is only used with transport udp (transport is vrrp)"));
}

TEST(ConfigTest, MinimalConfigGetsDefaults) {
  const Config c = parse_ok(kMinimal);
  EXPECT_EQ(c.instance.name, "web");
  EXPECT_TRUE(c.instance.track_interfaces.empty());
  EXPECT_EQ(c.vrrp.virtual_router_id, 51);
  EXPECT_EQ(c.vrrp.priority, 100);
  EXPECT_EQ(c.vrrp.advert_interval, 1s);
  EXPECT_TRUE(c.vrrp.preempt);
  EXPECT_EQ(c.vrrp.preempt_delay, 0s);
  EXPECT_EQ(c.vrrp.transport, Transport::kVrrp);
  EXPECT_TRUE(c.vrrp.peers.empty());
  EXPECT_FALSE(c.vrrp.source.has_value());
  EXPECT_EQ(c.vrrp.port, 5798);
  EXPECT_TRUE(c.vrrp.auth_key_file.empty());
  EXPECT_TRUE(c.vrrp.checksum_pseudo_header);
  EXPECT_TRUE(c.checks.empty());
  EXPECT_EQ(c.reserved_ip.provider, Provider::kNone);
  EXPECT_FALSE(c.reserved_ip.address.has_value());
  EXPECT_TRUE(c.virtual_ip.addresses.empty());
  EXPECT_TRUE(c.notify.master.empty());
  EXPECT_EQ(c.notify.timeout, 30s);
  EXPECT_EQ(c.control.socket, "/run/failoverd/web.sock");
  EXPECT_FALSE(c.metrics.listen.has_value());
}

TEST(ConfigTest, EmptyTextNamesEveryRequiredKey) {
  EXPECT_THAT(problems(""), ElementsAre("[instance] name: is required",
                                        "[instance] interface: is required",
                                        "[vrrp] virtual_router_id: is required"));
}

// ---- the exact text of each problem ----

TEST(ConfigTest, PriorityOutOfRange) {
  EXPECT_THAT(problems(minimal_plus("priority = 300\n")),
              ElementsAre("[vrrp] priority: 300 is out of range 1..254"));
  EXPECT_THAT(problems(minimal_plus("priority = -1\n")),
              ElementsAre("[vrrp] priority: -1 is out of range 1..254"));
  EXPECT_THAT(problems(minimal_plus("priority = 99999999999999999999999\n")),
              ElementsAre("[vrrp] priority: 99999999999999999999999 is out of range 1..254"));
  EXPECT_THAT(problems(minimal_plus("priority = 0\n")),
              ElementsAre("[vrrp] priority: 0 is reserved for a master that resigns (use "
                          "1..254, or 255 for the address owner)"));
  EXPECT_THAT(problems(minimal_plus("priority = high\n")),
              ElementsAre("[vrrp] priority: \"high\" is not a whole number"));
  EXPECT_THAT(problems(minimal_plus("priority = 15O\n")),
              ElementsAre("[vrrp] priority: \"15O\" is not a whole number"));
}

TEST(ConfigTest, PriorityAcceptsOwnerAndRange) {
  EXPECT_EQ(parse_ok(minimal_plus("priority = 1\n")).vrrp.priority, 1);
  EXPECT_EQ(parse_ok(minimal_plus("priority = 254\n")).vrrp.priority, 254);
  EXPECT_EQ(parse_ok(minimal_plus("priority = 255\n")).vrrp.priority, 255);
}

TEST(ConfigTest, VirtualRouterId) {
  EXPECT_THAT(problems("[instance]\nname=a\ninterface=eth0\n[vrrp]\nvirtual_router_id = 0\n"),
              ElementsAre("[vrrp] virtual_router_id: 0 is out of range 1..255"));
  EXPECT_EQ(parse_ok("[instance]\nname=a\ninterface=eth0\n[vrrp]\nvirtual_router_id=255\n")
                .vrrp.virtual_router_id,
            255);
}

TEST(ConfigTest, UnknownKeyAndSection) {
  EXPECT_THAT(problems(minimal_plus("prioirty = 150\n")),
              ElementsAre("[vrrp] prioirty: unknown key"));
  EXPECT_THAT(problems(minimal_plus("[vrp]\npriority = 150\nfoo = 1\n")),
              ElementsAre("[vrp] unknown section (expected instance, vrrp, check.NAME, "
                          "reserved_ip, virtual_ip, notify, control or metrics)"));
  EXPECT_THAT(problems(minimal_plus("[check]\ntype = tcp\n")),
              ElementsAre("[check] a check needs a name: [check.NAME]"));
  EXPECT_THAT(problems(minimal_plus("[check.my web]\ntype = tcp\n")),
              ElementsAre("[check.my web] check name \"my web\" must be 1..32 characters of "
                          "A-Z a-z 0-9 _ -"));
}

TEST(ConfigTest, AdvertInterval) {
  EXPECT_EQ(parse_ok(minimal_plus("advert_interval = 10ms\n")).vrrp.advert_interval, 10ms);
  EXPECT_EQ(parse_ok(minimal_plus("advert_interval = 40.95s\n")).vrrp.advert_interval, 40950ms);
  EXPECT_EQ(parse_ok(minimal_plus("advert_interval = 1.5s\n")).vrrp.advert_interval, 1500ms);
  EXPECT_THAT(problems(minimal_plus("advert_interval = 15ms\n")),
              ElementsAre("[vrrp] advert_interval: 15ms is not a multiple of 10ms (VRRPv3 sends "
                          "the interval in centiseconds)"));
  EXPECT_THAT(problems(minimal_plus("advert_interval = 41s\n")),
              ElementsAre("[vrrp] advert_interval: 41s is out of range 10ms..40.95s"));
  EXPECT_THAT(problems(minimal_plus("advert_interval = 5ms\n")),
              ElementsAre("[vrrp] advert_interval: 5ms is out of range 10ms..40.95s"));
  EXPECT_THAT(problems(minimal_plus("advert_interval = 1\n")),
              ElementsAre("[vrrp] advert_interval: \"1\" has no unit (use us, ms, s, m or h)"));
}

TEST(ConfigTest, PreemptSpellings) {
  for (const char* t : {"true", "yes", "on", "1", "TRUE", "Yes"}) {
    EXPECT_TRUE(parse_ok(minimal_plus(std::string("preempt = ") + t + "\n")).vrrp.preempt) << t;
  }
  for (const char* f : {"false", "no", "off", "0", "False"}) {
    EXPECT_FALSE(parse_ok(minimal_plus(std::string("preempt = ") + f + "\n")).vrrp.preempt) << f;
  }
  EXPECT_THAT(problems(minimal_plus("preempt = maybe\n")),
              ElementsAre("[vrrp] preempt: \"maybe\" is not a boolean (use true or false)"));
}

TEST(ConfigTest, PreemptDelay) {
  EXPECT_EQ(parse_ok(minimal_plus("preempt_delay = 1h\n")).vrrp.preempt_delay, 1h);
  EXPECT_THAT(problems(minimal_plus("preempt_delay = 61m\n")),
              ElementsAre("[vrrp] preempt_delay: 61m is out of range 0s..1h"));
}

TEST(ConfigTest, KeyGivenTwice) {
  EXPECT_THAT(problems(minimal_plus("priority = 150\npriority = 160\npriority = 170\n")),
              ElementsAre("[vrrp] priority: is set more than once (the last value is used)"));
  // Reopening a section is allowed; the keys still count together.
  EXPECT_THAT(problems(minimal_plus("priority = 150\n[instance]\n[vrrp]\npriority = 160\n")),
              ElementsAre("[vrrp] priority: is set more than once (the last value is used)"));
}

TEST(ConfigTest, EmptyValue) {
  EXPECT_THAT(problems(minimal_plus("priority =\n")),
              ElementsAre("[vrrp] priority: has no value"));
  EXPECT_THAT(problems("[instance]\nname =   # nothing\ninterface = eth0\n[vrrp]\n"
                       "virtual_router_id = 1\n"),
              ElementsAre("[instance] name: has no value"));
}

TEST(ConfigTest, InstanceNameAndInterfaces) {
  EXPECT_EQ(parse_ok("[instance]\nname = a-b_c.D9\ninterface = eth0.100\n[vrrp]\n"
                     "virtual_router_id = 1\n")
                .instance.name,
            "a-b_c.D9");
  EXPECT_THAT(
      problems("[instance]\nname = web/1\ninterface = a-very-long-name0\n"
               "track_interface = eth0\ntrack_interface = eth0\ntrack_interface = a:b\n"
               "[vrrp]\nvirtual_router_id = 1\n"),
      ElementsAre(
          "[instance] name: \"web/1\" must be 1..32 characters of A-Z a-z 0-9 _ . -",
          "[instance] interface: \"a-very-long-name0\" is not an interface name (1..15 "
          "characters, no '/', ':' or spaces)",
          "[instance] track_interface: eth0 is listed twice",
          "[instance] track_interface: \"a:b\" is not an interface name (1..15 characters, no "
          "'/', ':' or spaces)"));
  EXPECT_THAT(problems("[instance]\nname = ..\ninterface = eth0\n[vrrp]\nvirtual_router_id=1\n"),
              ElementsAre("[instance] name: \"..\" must be 1..32 characters of A-Z a-z 0-9 _ . -"));
}

TEST(ConfigTest, PeersAndSource) {
  const Config c = parse_ok(minimal_plus("peer = 10.0.0.2\npeer = 10.0.0.3\nsource = 10.0.0.1\n"));
  EXPECT_THAT(c.vrrp.peers, ElementsAre(ip("10.0.0.2"), ip("10.0.0.3")));
  EXPECT_EQ(c.vrrp.source, ip("10.0.0.1"));

  EXPECT_THAT(problems(minimal_plus("source = 10.0.0.1\npeer = 10.0.0.2\npeer = 10.0.0.2\n"
                                    "peer = 10.0.0.1\npeer = 224.0.0.18\npeer = 10.0.0.256\n"
                                    "peer = 255.255.255.255\n")),
              ElementsAre("[vrrp] peer: 10.0.0.2 is listed twice",
                          "[vrrp] peer: 10.0.0.1 is this host's own source address",
                          "[vrrp] peer: 224.0.0.18 is not a unicast address",
                          "[vrrp] peer: \"10.0.0.256\" is not an IPv4 address",
                          "[vrrp] peer: 255.255.255.255 is not a unicast address"));
  EXPECT_THAT(problems(minimal_plus("source = 0.0.0.0\n")),
              ElementsAre("[vrrp] source: 0.0.0.0 is not a unicast address"));
}

TEST(ConfigTest, CrossChecksOfTransport) {
  EXPECT_THAT(problems(minimal_plus("transport = udp\n")),
              ElementsAre("[vrrp] auth_key_file: is required with transport udp",
                          "[vrrp] peer: is required with transport udp (multicast is for "
                          "transport vrrp only)"));
  EXPECT_THAT(problems(minimal_plus("auth_key_file = /etc/failoverd/web.key\nport = 6000\n")),
              ElementsAre("[vrrp] auth_key_file: is only used with transport udp (transport is "
                          "vrrp)",
                          "[vrrp] port: is only used with transport udp (transport is vrrp)"));
  EXPECT_THAT(problems(minimal_plus("transport = tcp\n")),
              ElementsAre("[vrrp] transport: \"tcp\" is not a transport (use vrrp or udp)"));
  const Config c = parse_ok(minimal_plus(
      "transport = udp\npeer = 10.0.0.2\nport = 6000\nauth_key_file = /k\n"));
  EXPECT_EQ(c.vrrp.transport, Transport::kUdp);
  EXPECT_EQ(c.vrrp.port, 6000);
  EXPECT_THAT(problems(minimal_plus("transport = udp\npeer = 10.0.0.2\nport = 0\n"
                                    "auth_key_file = k\n")),
              ElementsAre("[vrrp] port: 0 is out of range 1..65535",
                          "[vrrp] auth_key_file: \"k\" is not an absolute path"));
}

TEST(ConfigTest, SyntaxErrorsAreReportedWithLineNumbers) {
  EXPECT_THAT(problems("[instance]\nname = web\njust some words\ninterface = eth0\n[vrrp]\n"
                       "virtual_router_id = 1\n= 5\n[]\nx = 1\n"),
              ElementsAre("[instance] line 3: \"just some words\" is neither a [section] nor a "
                          "key = value line",
                          "[vrrp] line 7: has no key before \"=\"",
                          "line 8: \"[]\" is an empty section name"));
  EXPECT_THAT(problems(std::string("priority = 5\n") + std::string(kMinimal)),
              ElementsAre("priority: is outside any section (start one with e.g. [instance])"));
  EXPECT_THAT(problems(minimal_plus("[vrrp\n")),
              ElementsAre("[vrrp] line 8: \"[vrrp\" is neither a [section] nor a key = value "
                          "line"));
}

TEST(ConfigTest, InlineCommentsAndTrimming) {
  const Config c = parse_ok(
      "# a comment\n"
      "; also a comment\n"
      "  [instance]   # trailing comment after a header\n"
      "name=web#comment without spaces\n"
      "\tinterface \t=\t eth1 \t\n"
      "[vrrp]\n"
      "virtual_router_id = 51   # 1..255\n"
      "priority = 150\t\t# comment\n");
  EXPECT_EQ(c.instance.name, "web");
  EXPECT_EQ(c.instance.interface, "eth1");
  EXPECT_EQ(c.vrrp.virtual_router_id, 51);
  EXPECT_EQ(c.vrrp.priority, 150);
}

TEST(ConfigTest, CrlfLineEndings) {
  const Config c = parse_ok("[instance]\r\nname = web\r\ninterface = eth1\r\n[vrrp]\r\n"
                            "virtual_router_id = 7\r\npeer = 10.0.0.2\r\n");
  EXPECT_EQ(c.instance.interface, "eth1");
  EXPECT_EQ(c.vrrp.virtual_router_id, 7);
  EXPECT_THAT(c.vrrp.peers, ElementsAre(ip("10.0.0.2")));
}

TEST(ConfigTest, SeveralProblemsAreReportedTogether) {
  EXPECT_THAT(problems("[instance]\n"
                       "interface = eth1\n"
                       "[vrrp]\n"
                       "virtual_router_id = 51\n"
                       "priority = 300\n"
                       "prioirty = 150\n"
                       "advert_interval = 15ms\n"
                       "[check.web]\n"
                       "type = http\n"
                       "timeout = 5s\n"
                       "[metrics]\n"
                       "listen = 9798\n"),
              ElementsAre("[vrrp] prioirty: unknown key",
                          "[instance] name: is required",
                          "[vrrp] priority: 300 is out of range 1..254",
                          "[vrrp] advert_interval: 15ms is not a multiple of 10ms (VRRPv3 sends "
                          "the interval in centiseconds)",
                          "[check.web] timeout: 5s must be shorter than interval 2s",
                          "[check.web] url: is required for type http",
                          "[metrics] listen: \"9798\": expected HOST:PORT, e.g. 127.0.0.1:9798 "
                          "or [::1]:9798"));
}

// ---- checks ----

TEST(ConfigTest, CheckTypesParse) {
  const Config c = parse_ok(minimal_plus(R"(
[check.containers]
type = docker
label = com.docker.compose.project=minitwit
label = production
name = web-1
[check.health]
type = http
url = https://127.0.0.1:8443/health
expect_status = 204
expect_body = ok
tls_verify = no
interval = 500ms
timeout = 200ms
rise = 1
fall = 1
weight = -20
[check.db]
type = tcp
address = [::1]:5432
[check.script]
type = exec
command = /usr/local/bin/check "two words" --x=""
user = nobody
)"));
  ASSERT_EQ(c.checks.size(), 4u);
  const auto& docker = std::get<DockerCheckSpec>(c.checks[0].spec);
  EXPECT_EQ(c.checks[0].type(), CheckType::kDocker);
  EXPECT_EQ(docker.socket, "/var/run/docker.sock");
  EXPECT_EQ(docker.min_running, 1);
  EXPECT_THAT(docker.labels, ElementsAre("com.docker.compose.project=minitwit", "production"));
  EXPECT_EQ(docker.name, "web-1");

  EXPECT_EQ(c.checks[1].name, "health");
  const auto& http = std::get<HttpCheckSpec>(c.checks[1].spec);
  EXPECT_EQ(http.url, "https://127.0.0.1:8443/health");
  EXPECT_EQ(http.expect_status, 204);
  EXPECT_EQ(http.expect_body, "ok");
  EXPECT_FALSE(http.tls_verify);
  EXPECT_EQ(c.checks[1].interval, 500ms);
  EXPECT_EQ(c.checks[1].timeout, 200ms);
  EXPECT_EQ(c.checks[1].rise, 1);
  EXPECT_EQ(c.checks[1].weight, -20);

  const auto& tcp = std::get<TcpCheckSpec>(c.checks[2].spec);
  EXPECT_EQ(tcp.address.host, "::1");
  EXPECT_EQ(tcp.address.port, 5432);

  const auto& exec = std::get<ExecCheckSpec>(c.checks[3].spec);
  EXPECT_THAT(exec.command, ElementsAre("/usr/local/bin/check", "two words", "--x="));
  EXPECT_EQ(exec.user, "nobody");
  EXPECT_EQ(to_string(c.checks[3].type()), std::string("exec"));
}

TEST(ConfigTest, CheckProblems) {
  EXPECT_THAT(problems(minimal_plus("[check.a]\ninterval = 5s\n")),
              ElementsAre("[check.a] type: is required (docker, http, tcp or exec)"));
  EXPECT_THAT(problems(minimal_plus("[check.a]\ntype = tcp\naddress = db:5432\n"
                                    "interval = 1s\n")),
              ElementsAre("[check.a] timeout: the default 1s must be shorter than interval 1s; "
                          "set a shorter timeout"));
  EXPECT_THAT(problems(minimal_plus("[check.a]\ntype = ping\n")),
              ElementsAre("[check.a] type: \"ping\" is not a check type (use docker, http, tcp "
                          "or exec)"));
  EXPECT_THAT(problems(minimal_plus("[check.a]\ntype = tcp\naddress = db:5432\n"
                                    "interval = 1s\ntimeout = 1s\n")),
              ElementsAre("[check.a] timeout: 1s must be shorter than interval 1s"));
  EXPECT_THAT(problems(minimal_plus("[check.a]\ntype = tcp\naddress = db:5432\n"
                                    "timeout = 3s\n")),
              ElementsAre("[check.a] timeout: 3s must be shorter than interval 2s"));
  EXPECT_THAT(problems(minimal_plus("[check.a]\ntype = tcp\naddress = db:99999\n"
                                    "rise = 0\nfall = 101\nweight = 255\nmin_running = 2\n")),
              ElementsAre("[check.a] rise: 0 is out of range 1..100",
                          "[check.a] fall: 101 is out of range 1..100",
                          "[check.a] weight: 255 is out of range -254..254",
                          "[check.a] min_running: is a key of docker checks, and this check is "
                          "type tcp",
                          "[check.a] address: \"db:99999\": port 99999 is out of range 1..65535"));
  EXPECT_THAT(problems(minimal_plus("[check.a]\ntype = docker\nmin_running = 0\nlabel = =x\n"
                                    "socket = docker.sock\n")),
              ElementsAre("[check.a] socket: \"docker.sock\" is not an absolute path",
                          "[check.a] min_running: 0 is out of range 1..100000",
                          "[check.a] label: \"=x\" is not a label filter (use key or "
                          "key=value)"));
  EXPECT_THAT(problems(minimal_plus("[check.a]\ntype = http\nurl = ftp://x\n"
                                    "expect_status = 700\n")),
              ElementsAre("[check.a] url: \"ftp://x\" is not an http:// or https:// URL",
                          "[check.a] expect_status: 700 is out of range 100..599"));
  EXPECT_THAT(problems(minimal_plus("[check.a]\ntype = tcp\n[check.b]\ntype = exec\n"
                                    "command = /bin/x \"unterminated\n")),
              ElementsAre("[check.a] address: is required for type tcp",
                          "[check.b] command: \"/bin/x \"unterminated\" has an unterminated "
                          "double quote"));
}

// ---- reserved_ip ----

TEST(ConfigTest, ReservedIpProviders) {
  const Config none = parse_ok(minimal_plus("[reserved_ip]\nprovider = none\n"));
  EXPECT_EQ(none.reserved_ip.provider, Provider::kNone);

  const Config het = parse_ok(minimal_plus("[reserved_ip]\nprovider = hetzner\n"
                                           "address = 203.0.113.10\ntoken_file = /t\n"
                                           "server_id = 42\n"));
  EXPECT_EQ(het.reserved_ip.provider, Provider::kHetzner);
  EXPECT_EQ(het.reserved_ip.server_id, 42u);
  EXPECT_EQ(het.reserved_ip.api_url, "https://api.hetzner.cloud");

  const Config cf = parse_ok(minimal_plus("[reserved_ip]\nprovider = cloudflare\n"
                                          "address = 203.0.113.10\ntoken_file = /t\n"
                                          "zone_id = abc\nrecord = www.example.com\n"));
  EXPECT_EQ(cf.reserved_ip.api_url, "https://api.cloudflare.com/client/v4");
  EXPECT_EQ(cf.reserved_ip.record, "www.example.com");

  const Config ex = parse_ok(minimal_plus("[reserved_ip]\nprovider = exec\n"
                                          "address = 203.0.113.10\n"
                                          "command = /usr/local/bin/claim --fast\n"));
  EXPECT_THAT(ex.reserved_ip.command, ElementsAre("/usr/local/bin/claim", "--fast"));
  EXPECT_TRUE(ex.reserved_ip.api_url.empty());

  const Config d = parse_ok(minimal_plus("[reserved_ip]\nprovider = digitalocean\n"
                                         "address = 203.0.113.10\ntoken_file = /t\n"
                                         "droplet_id = 12345678\nreconcile_interval = 1m\n"
                                         "api_url = http://127.0.0.1:8080\n"));
  EXPECT_EQ(d.reserved_ip.droplet_id, 12345678u);
  EXPECT_EQ(d.reserved_ip.api_url, "http://127.0.0.1:8080");
  EXPECT_EQ(d.reserved_ip.reconcile_interval, 1min);
}

TEST(ConfigTest, ReservedIpProblems) {
  EXPECT_THAT(problems(minimal_plus("[reserved_ip]\nprovider = digitalocean\n")),
              ElementsAre("[reserved_ip] address: is required with provider digitalocean",
                          "[reserved_ip] token_file: is required with provider digitalocean"));
  EXPECT_THAT(problems(minimal_plus("[reserved_ip]\naddress = 203.0.113.10\n")),
              ElementsAre("[reserved_ip] provider: is required (digitalocean, hetzner, "
                          "cloudflare, exec or none)"));
  EXPECT_THAT(problems(minimal_plus("[reserved_ip]\nprovider = aws\n")),
              ElementsAre("[reserved_ip] provider: \"aws\" is not a provider (use none, "
                          "digitalocean, hetzner, cloudflare or exec)"));
  EXPECT_THAT(problems(minimal_plus("[reserved_ip]\nprovider = digitalocean\n"
                                    "address = 203.0.113.300\ntoken_file = /t\n"
                                    "droplet_id = first\nserver_id = 3\n")),
              ElementsAre("[reserved_ip] server_id: is not used by provider digitalocean",
                          "[reserved_ip] address: \"203.0.113.300\" is not an IPv4 address",
                          "[reserved_ip] droplet_id: \"first\" is not auto or a positive number"));
  EXPECT_THAT(problems(minimal_plus("[reserved_ip]\nprovider = cloudflare\n"
                                    "address = 203.0.113.1\ntoken_file = /t\n")),
              ElementsAre("[reserved_ip] zone_id: is required with provider cloudflare",
                          "[reserved_ip] record: is required with provider cloudflare"));
  EXPECT_THAT(problems(minimal_plus("[reserved_ip]\nprovider = exec\naddress = 203.0.113.1\n"
                                    "token_file = /t\n")),
              ElementsAre("[reserved_ip] token_file: is not used by provider exec",
                          "[reserved_ip] command: is required with provider exec"));
}

// ---- virtual_ip, notify, control, metrics ----

TEST(ConfigTest, VirtualIps) {
  const Config c =
      parse_ok(minimal_plus("[virtual_ip]\naddress = 10.0.0.100/24\naddress = 10.0.0.101/32\n"));
  ASSERT_EQ(c.virtual_ip.addresses.size(), 2u);
  EXPECT_EQ(c.virtual_ip.addresses[0].address, ip("10.0.0.100"));
  EXPECT_EQ(c.virtual_ip.addresses[0].prefix_len, 24);
  EXPECT_EQ(c.virtual_ip.addresses[1].prefix_len, 32);
  EXPECT_THAT(problems(minimal_plus("[virtual_ip]\naddress = 10.0.0.100\n"
                                    "address = 10.0.0.1/33\naddress = 10.0.0.2/24\n"
                                    "address = 10.0.0.2/16\naddress = 224.0.0.1/4\n")),
              ElementsAre("[virtual_ip] address: \"10.0.0.100\" has no prefix length (e.g. "
                          "10.0.0.100/24)",
                          "[virtual_ip] address: \"10.0.0.1/33\": prefix length 33 is out of "
                          "range 1..32",
                          "[virtual_ip] address: 10.0.0.2 is listed twice",
                          "[virtual_ip] address: 224.0.0.1 is not a unicast address"));
}

TEST(ConfigTest, SecretsMayNameASystemdCredential) {
  const Config c = parse_ok(minimal_plus(
      "[reserved_ip]\nprovider = digitalocean\naddress = 203.0.113.10\n"
      "token_file = credential:do.token\n"));
  EXPECT_EQ(c.reserved_ip.token_file, "credential:do.token");
  const auto bad = problems(minimal_plus(
      "[reserved_ip]\nprovider = digitalocean\naddress = 203.0.113.10\n"
      "token_file = credential:../etc/shadow\n"));
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_THAT(bad[0], HasSubstr("a credential name must be one path component"));
}

TEST(ConfigTest, GratuitousArpCountAndInterval) {
  const Config d = parse_ok(minimal_plus("[virtual_ip]\naddress = 10.0.0.100/24\n"));
  EXPECT_EQ(d.virtual_ip.garp_count, 3);
  EXPECT_EQ(d.virtual_ip.garp_interval, 1s);
  const Config c = parse_ok(minimal_plus(
      "[virtual_ip]\naddress = 10.0.0.100/24\ngarp_count = 5\ngarp_interval = 200ms\n"));
  EXPECT_EQ(c.virtual_ip.garp_count, 5);
  EXPECT_EQ(c.virtual_ip.garp_interval, 200ms);
  const auto bad = problems(minimal_plus(
      "[virtual_ip]\naddress = 10.0.0.100/24\ngarp_count = 0\ngarp_interval = 5ms\n"));
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_THAT(bad[0], HasSubstr("[virtual_ip] garp_count"));
  EXPECT_THAT(bad[1], HasSubstr("[virtual_ip] garp_interval: 5ms is out of range 10ms..60s"));
}

TEST(ConfigTest, NotifyControlMetrics) {
  const Config c = parse_ok(minimal_plus("[notify]\nmaster = /bin/m\ntimeout = 5s\n"
                                         "[control]\nsocket = /tmp/x.sock\n"
                                         "[metrics]\nlisten = [::1]:9798\n"));
  EXPECT_EQ(c.notify.master, "/bin/m");
  EXPECT_TRUE(c.notify.backup.empty());
  EXPECT_EQ(c.notify.timeout, 5s);
  EXPECT_EQ(c.control.socket, "/tmp/x.sock");
  EXPECT_EQ(c.metrics.listen, "[::1]:9798");
  // The rule the metrics server binds with: --check-config once passed this, and then the
  // daemon threw at start.
  EXPECT_THAT(problems(minimal_plus("[metrics]\nlisten = localhost:9798\n")),
              ElementsAre("[metrics] listen: \"localhost:9798\": \"localhost\" is not a numeric "
                          "IPv4 or IPv6 address"));
  EXPECT_THAT(problems(minimal_plus("[notify]\nbackup = backup.sh\ntimeout = 0s\n"
                                    "[control]\nsocket = /" + std::string(110, 'x') + "\n")),
              ElementsAre("[notify] backup: \"backup.sh\" is not an absolute path",
                          "[notify] timeout: 0s is out of range 10ms..1h",
                          "[control] socket: is 111 bytes long; a unix socket path has at most "
                          "107"));
}

// ---- overrides ----

TEST(ConfigTest, OverridesReplaceAndAppend) {
  const Config c = parse_ok(minimal_plus("priority = 150\npeer = 10.0.0.2\n"),
                            {"vrrp.priority=200", "vrrp.peer = 10.0.0.3", " vrrp.preempt = no ",
                             "check.web.type=tcp", "check.web.address=127.0.0.1:80",
                             "check.web.timeout=500ms", "metrics.listen=0.0.0.0:9100",
                             "vrrp.priority=210"});
  EXPECT_EQ(c.vrrp.priority, 210);
  EXPECT_THAT(c.vrrp.peers, ElementsAre(ip("10.0.0.2"), ip("10.0.0.3")));
  EXPECT_FALSE(c.vrrp.preempt);
  ASSERT_EQ(c.checks.size(), 1u);
  EXPECT_EQ(c.checks[0].name, "web");
  EXPECT_EQ(c.checks[0].timeout, 500ms);
  EXPECT_EQ(c.metrics.listen, "0.0.0.0:9100");
}

TEST(ConfigTest, OverrideSuppliesARequiredKey) {
  const Config c = parse_ok("[instance]\nname = web\ninterface = eth1\n",
                            {"vrrp.virtual_router_id=9"});
  EXPECT_EQ(c.vrrp.virtual_router_id, 9);
}

TEST(ConfigTest, OverrideProblems) {
  EXPECT_THAT(problems(kMinimal, {"vrrppriority=200", "vrrp.priority", ".x=1", "vrrp.=1"}),
              ElementsAre("[command line] vrrppriority=200: is not section.key=value (e.g. "
                          "vrrp.priority=200)",
                          "[command line] vrrp.priority: is not section.key=value (e.g. "
                          "vrrp.priority=200)",
                          "[command line] .x=1: is not section.key=value (e.g. "
                          "vrrp.priority=200)",
                          "[command line] vrrp.=1: is not section.key=value (e.g. "
                          "vrrp.priority=200)"));
  EXPECT_THAT(problems(kMinimal, {"vrp.priority=1"}),
              ElementsAre("[command line] vrp.priority=1: [vrp] unknown section (expected "
                          "instance, vrrp, check.NAME, reserved_ip, virtual_ip, notify, control "
                          "or metrics)"));
  EXPECT_THAT(problems(kMinimal, {"vrrp.prioirty=1", "vrrp.priority=300"}),
              ElementsAre("[vrrp] prioirty: unknown key",
                          "[vrrp] priority: 300 is out of range 1..254"));
}

TEST(ConfigTest, ToCoreParams) {
  const Config c = parse_ok(minimal_plus("priority = 200\nadvert_interval = 100ms\n"
                                         "preempt = off\npreempt_delay = 30s\n"));
  const core::Params p = to_core_params(c, ip("10.0.0.4"));
  EXPECT_EQ(p.priority, 200);
  EXPECT_EQ(p.advert_interval, 100ms);
  EXPECT_FALSE(p.preempt);
  EXPECT_EQ(p.preempt_delay, 30s);
  EXPECT_EQ(p.primary_address, ip("10.0.0.4"));
}

TEST(ConfigTest, InstantHandoverDefaultsToAutoAndReachesCore) {
  // The default: core gets the peers and decides (on exactly when there is one peer).
  const Config one = parse_ok(minimal_plus("peer = 10.0.0.2\n"));
  EXPECT_EQ(one.vrrp.instant_handover, InstantHandover::kAuto);
  const core::Params p = to_core_params(one, ip("10.0.0.4"));
  EXPECT_THAT(p.peers, ElementsAre(ip("10.0.0.2")));
  EXPECT_TRUE(p.instant_handover);
  EXPECT_EQ(core::Instance(p).instant_handover_peer(), ip("10.0.0.2"));

  // auto with multicast or two peers: core keeps the RFC wait.
  const core::Params multicast = to_core_params(parse_ok(kMinimal), ip("10.0.0.4"));
  EXPECT_TRUE(multicast.peers.empty());
  EXPECT_EQ(core::Instance(multicast).instant_handover_peer(), std::nullopt);
  const core::Params two =
      to_core_params(parse_ok(minimal_plus("peer = 10.0.0.2\npeer = 10.0.0.3\n")), ip("10.0.0.4"));
  EXPECT_EQ(core::Instance(two).instant_handover_peer(), std::nullopt);
  // A list shared by both hosts (no source given) names this host too: still one peer.
  const core::Params shared = to_core_params(
      parse_ok(minimal_plus("peer = 10.0.0.2\npeer = 10.0.0.4\ninstant_handover = auto\n")),
      ip("10.0.0.4"));
  EXPECT_EQ(core::Instance(shared).instant_handover_peer(), ip("10.0.0.2"));
}

TEST(ConfigTest, InstantHandoverNoKeepsTheRfcWait) {
  for (const char* no : {"no", "false", "off", "0"}) {
    const Config c =
        parse_ok(minimal_plus("peer = 10.0.0.2\ninstant_handover = " + std::string(no) + "\n"));
    EXPECT_EQ(c.vrrp.instant_handover, InstantHandover::kNo) << no;
    const core::Params p = to_core_params(c, ip("10.0.0.4"));
    EXPECT_FALSE(p.instant_handover) << no;
    EXPECT_EQ(core::Instance(p).instant_handover_peer(), std::nullopt) << no;
  }
  // no is fine with any peers.
  EXPECT_EQ(parse_ok(minimal_plus("instant_handover = no\n")).vrrp.instant_handover,
            InstantHandover::kNo);
}

TEST(ConfigTest, InstantHandoverYesNeedsExactlyOnePeer) {
  for (const char* yes : {"yes", "true", "on", "1"}) {
    const Config c =
        parse_ok(minimal_plus("peer = 10.0.0.2\ninstant_handover = " + std::string(yes) + "\n"));
    EXPECT_EQ(c.vrrp.instant_handover, InstantHandover::kYes) << yes;
    EXPECT_EQ(core::Instance(to_core_params(c, ip("10.0.0.4"))).instant_handover_peer(),
              ip("10.0.0.2"));
  }
  EXPECT_THAT(problems(minimal_plus("instant_handover = yes\n")),
              ElementsAre("[vrrp] instant_handover: yes needs exactly one peer; without peer "
                          "(multicast) any number of backups may listen, and Skew_Time orders "
                          "them (use auto or no)"));
  EXPECT_THAT(problems(minimal_plus("peer = 10.0.0.2\npeer = 10.0.0.3\ninstant_handover = on\n")),
              ElementsAre("[vrrp] instant_handover: on needs exactly one peer, 2 are listed; "
                          "with several backups Skew_Time orders them (use auto or no)"));
  EXPECT_THAT(problems(minimal_plus("instant_handover = maybe\n")),
              ElementsAre("[vrrp] instant_handover: \"maybe\" is not auto, yes or no"));
  EXPECT_THAT(problems(minimal_plus("instant_handover = AUTO\n")),
              ElementsAre("[vrrp] instant_handover: \"AUTO\" is not auto, yes or no"));
}

TEST(ConfigTest, InstantHandoverOverride) {
  // The --set path: replaces the file's value, and is validated like it.
  const std::string text = minimal_plus("peer = 10.0.0.2\ninstant_handover = yes\n");
  EXPECT_EQ(parse_ok(text, {"vrrp.instant_handover=no"}).vrrp.instant_handover,
            InstantHandover::kNo);
  EXPECT_EQ(parse_ok(minimal_plus("peer = 10.0.0.2\n"), {"vrrp.instant_handover=yes"})
                .vrrp.instant_handover,
            InstantHandover::kYes);
  EXPECT_THAT(problems(text, {"vrrp.peer=10.0.0.3"}),
              ElementsAre("[vrrp] instant_handover: yes needs exactly one peer, 2 are listed; "
                          "with several backups Skew_Time orders them (use auto or no)"));
}

// The lexer is the only INI parser: random INI-ish text gets short problems, one line each,
// at most the cap plus its summary line, and whatever it accepts is the same config when read
// again with comments and blank lines between its lines.
TEST(ConfigTest, RandomTextGetsBoundedOneLineProblems) {
  const std::vector<std::string> tokens = {
      "[", "]", "=", "#", ";", " ", "\t", "\r", "\n", "\n", "\n", "vrrp", "instance",
      "check.x", "priority", "name", "1", "a.b", "[vrrp]", "[check.c]", "type = tcp",
      "\"", std::string(1, '\0'), "\xff", ".", "[]", "= =", std::string(200, 'k')};
  std::mt19937 rng(12345);
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = i % 2 ? std::string(kMinimal) : std::string();
    const int n = static_cast<int>(rng() % 40);
    for (int j = 0; j < n; ++j) text += tokens[rng() % tokens.size()];
    auto r = parse_config(text, {});
    if (r) {
      ++accepted;
      std::string spaced;
      for (char c : text) spaced += c == '\n' ? std::string("\n# comment\n\n") : std::string(1, c);
      auto again = parse_config(spaced, {});
      ASSERT_TRUE(again) << "text: " << text;
      EXPECT_EQ(again->vrrp.priority, r->vrrp.priority) << "text: " << text;
      EXPECT_EQ(again->checks.size(), r->checks.size()) << "text: " << text;
      continue;
    }
    ASSERT_LE(r.error().size(), 51u) << "text: " << text;
    for (const auto& p : r.error()) {
      const std::string line = p.to_string();
      ASSERT_EQ(line.find('\n'), std::string::npos) << "text: " << text;
      ASSERT_LE(line.size(), 400u) << line;
    }
  }
  EXPECT_GT(accepted, 0);  // the property above was exercised
}

TEST(ConfigTest, ProblemToString) {
  EXPECT_EQ((Problem{"vrrp", "priority", "300 is out of range 1..254"}.to_string()),
            "[vrrp] priority: 300 is out of range 1..254");
  EXPECT_EQ((Problem{"vrp", "", "unknown section"}.to_string()), "[vrp] unknown section");
  EXPECT_EQ((Problem{"", "/etc/x.conf", "No such file or directory"}.to_string()),
            "/etc/x.conf: No such file or directory");
  EXPECT_EQ((Problem{"", "", "internal"}.to_string()), "internal");
}

// A config file may be up to 1 MiB; what a hand-written file never needs is bounded, so that
// the work stays linear in the input and the diagnostics stay short.
TEST(ConfigTest, LargeInput) {
  std::string text(kMinimal);
  for (int i = 0; i < 64; ++i) {
    text += "[check.c" + std::to_string(i) + "]\ntype = tcp\naddress = 10.0.0.1:" +
            std::to_string(1 + i) + "\n";
  }
  const Config c = parse_ok(text);
  ASSERT_EQ(c.checks.size(), 64u);
  EXPECT_EQ(c.checks.back().name, "c63");
  // And one enormous malformed line is one problem.
  const auto huge = problems(minimal_plus(std::string(1024 * 1024, 'x')));
  ASSERT_EQ(huge.size(), 1u);
  EXPECT_EQ(huge[0], "[vrrp] line 8: \"" + std::string(60, 'x') +
                         "...\" is neither a [section] nor a key = value line");
}

// The issue's literal case: 100,000 sections (valid ones) are refused as a whole.
TEST(ConfigTest, TooManyChecksIsOneProblem) {
  std::string text(kMinimal);
  for (int i = 0; i < 100'000; ++i)
    text += "[check.c" + std::to_string(i) + "]\ntype = tcp\naddress = 10.0.0.1:80\n";
  EXPECT_THAT(problems(text), ElementsAre("100000 [check.NAME] sections; at most 64 are allowed"));
}

// 46,000 track_interface lines once took 2 s (a duplicate check scanning the list). Repeatable
// keys now have a bound, and duplicates are found with a set.
TEST(ConfigTest, RepeatableKeysAreBounded) {
  std::string in_instance = "[instance]\nname = web\ninterface = eth1\n";
  for (int i = 0; i < 46'000; ++i)
    in_instance += "track_interface = eth" + std::to_string(i) + "\n";
  in_instance += "[vrrp]\nvirtual_router_id = 51\n";
  EXPECT_THAT(problems(in_instance),
              ElementsAre("[instance] track_interface: is given 46000 times; at most 64 are "
                          "allowed"));

  std::string at_limit = "[instance]\nname = web\ninterface = eth1\n";
  for (int i = 0; i < 64; ++i) at_limit += "track_interface = eth" + std::to_string(i) + "\n";
  at_limit += "track_interface = eth5\n";  // one too many, and a duplicate
  at_limit += "[vrrp]\nvirtual_router_id = 51\n";
  EXPECT_THAT(problems(at_limit),
              ElementsAre("[instance] track_interface: is given 65 times; at most 64 are allowed"));

  std::string vips = std::string(kMinimal) + "[virtual_ip]\n";
  for (int i = 0; i < 256; ++i) vips += "address = 10.1." + std::to_string(i) + ".1/24\n";
  EXPECT_THAT(problems(vips),
              ElementsAre("[virtual_ip] address: is given 256 times; at most 255 are allowed"));
}

TEST(ConfigTest, DiagnosticsAreCapped) {
  // 1 MiB of garbage lines: 50 problems and a count of the rest, not 48 MB of output.
  std::string text(kMinimal);
  while (text.size() < 1024 * 1024) text += "garbage\n";
  const auto p = problems(text);
  ASSERT_EQ(p.size(), 51u);
  EXPECT_EQ(p[0], "[vrrp] line 8: \"garbage\" is neither a [section] nor a key = value line");
  EXPECT_THAT(p.back(), ::testing::MatchesRegex("and [0-9]+ more problems \\(not shown\\)"));
  const std::size_t lines = (text.size() - kMinimal.size()) / 8;
  EXPECT_EQ(p.back(), "and " + std::to_string(lines - 50) + " more problems (not shown)");

  // A long section name is cut where it is echoed, and echoed once.
  const std::string name(100'000, 'n');
  const auto long_section = problems(std::string(kMinimal) + "[check." + name + "]\ntype = tcp\n");
  ASSERT_EQ(long_section.size(), 1u);
  EXPECT_LT(long_section[0].size(), 200u) << long_section[0];
  EXPECT_THAT(long_section[0], HasSubstr("must be 1..32 characters"));
}

}  // namespace
}  // namespace failoverd::config
