// The configuration of one failoverd instance: the INI file that failoverd.conf(5) describes,
// parsed into typed, validated values.
//
// parse_config() is pure (text in, Config or every problem out) so it is tested from literal
// strings; check_files() and load_config() add the file-system checks. Validation collects all
// problems instead of stopping at the first, so `failoverd --check-config` shows them at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "failoverd/config/values.h"
#include "failoverd/core/instance.h"
#include "failoverd/proto/auth_envelope.h"
#include "failoverd/util/duration.h"
#include "failoverd/util/expected.h"
#include "failoverd/util/ipv4.h"

namespace failoverd::config {

// One thing wrong with a configuration. `section` is the INI section ("vrrp", "check.web"),
// "command line" for a malformed override, or empty for the file as a whole.
struct Problem {
  std::string section;
  std::string key;
  std::string message;

  // "[vrrp] priority: 300 is out of range 1..254"; "[vrp] unknown section ..." without a key;
  // "/etc/failoverd/web.conf: cannot be read ..." without a section.
  std::string to_string() const;
  bool operator==(const Problem&) const = default;
};

using Problems = std::vector<Problem>;

// ---- [instance] ----

struct InstanceConfig {
  std::string name;       // [A-Za-z0-9_.-]{1,32}: it names the control socket and logs
  std::string interface;  // heartbeats go out here; VIPs are added here
  std::vector<std::string> track_interfaces;  // key "track_interface", repeatable
  // The event loop's scheduling (daemon/realtime.h), read at start only: SCHED_RR at this
  // priority when permitted, 1..99; 0 = normal scheduling.
  int realtime_priority = 10;
  bool lock_memory = true;  // mlockall when permitted

  bool operator==(const InstanceConfig&) const = default;
};

// ---- [vrrp] ----

enum class Transport : std::uint8_t { kVrrp, kUdp };
const char* to_string(Transport t);  // "vrrp", "udp"

// Key "instant_handover": whether a BACKUP whose only peer resigns (priority 0) takes over at
// once instead of after Skew_Time (core::Params::instant_handover; a deviation from RFC 5798
// §6.4.2, whose wait only orders several backups).
enum class InstantHandover : std::uint8_t {
  kAuto,  // on exactly when one unicast peer is configured (the default)
  kYes,   // the same, and a config without exactly one peer is refused
  kNo,    // never: the RFC's Skew_Time wait always
};
const char* to_string(InstantHandover h);  // "auto", "yes", "no"

struct VrrpConfig {
  std::uint8_t virtual_router_id = 0;  // 1..255, required
  std::uint8_t priority = 100;         // 1..254; 255 = address owner
  util::Duration advert_interval = std::chrono::seconds(1);  // 10ms..40.95s, multiple of 10ms
  bool preempt = true;
  util::Duration preempt_delay{0};  // 0..1h
  Transport transport = Transport::kVrrp;
  std::vector<util::Ipv4> peers;    // key "peer", repeatable; empty = multicast 224.0.0.18
  std::optional<util::Ipv4> source;  // unset: the first IPv4 address of instance.interface
  std::uint16_t port = proto::kDefaultUdpPort;  // udp transport only
  std::string auth_key_file;             // udp transport only (and required there)
  bool checksum_pseudo_header = true;    // true = keepalived/FRR, false = RFC 9568
  InstantHandover instant_handover = InstantHandover::kAuto;

  bool operator==(const VrrpConfig&) const = default;
};

// ---- [check.NAME] ----

enum class CheckType : std::uint8_t { kDocker, kHttp, kTcp, kExec };
const char* to_string(CheckType t);  // "docker", "http", "tcp", "exec"

struct DockerCheckSpec {
  std::string socket = "/var/run/docker.sock";  // the Engine API's unix socket
  int min_running = 1;                          // at least this many matching containers run
  std::vector<std::string> labels;              // key "label", repeatable: "k=v" or "k"
  std::optional<std::string> name;              // container name filter

  bool operator==(const DockerCheckSpec&) const = default;
};

struct HttpCheckSpec {
  std::string url;  // http:// or https://
  int expect_status = 200;
  std::optional<std::string> expect_body;  // a substring the body must contain
  bool tls_verify = true;

  bool operator==(const HttpCheckSpec&) const = default;
};

struct TcpCheckSpec {
  HostPort address;  // connect() succeeding is healthy

  bool operator==(const TcpCheckSpec&) const = default;
};

struct ExecCheckSpec {
  std::vector<std::string> command;  // argv; exit status 0 is healthy
  std::optional<std::string> user;   // run as this user

  bool operator==(const ExecCheckSpec&) const = default;
};

struct CheckConfig {
  std::string name;  // from the section: [check.NAME], [A-Za-z0-9_-]{1,32}
  util::Duration interval = std::chrono::seconds(2);
  util::Duration timeout = std::chrono::seconds(1);  // < interval
  int rise = 2;    // consecutive passes to become healthy
  int fall = 3;    // consecutive failures to become unhealthy
  int weight = 0;  // 0: failing means FAULT; otherwise added to priority while passing (-254..254)
  std::variant<DockerCheckSpec, HttpCheckSpec, TcpCheckSpec, ExecCheckSpec> spec;

  CheckType type() const { return static_cast<CheckType>(spec.index()); }

  bool operator==(const CheckConfig&) const = default;
};

// ---- [reserved_ip] ----

enum class Provider : std::uint8_t { kNone, kDigitalOcean, kHetzner, kCloudflare, kExec };
const char* to_string(Provider p);  // "none", "digitalocean", "hetzner", "cloudflare", "exec"

struct ReservedIpConfig {
  Provider provider = Provider::kNone;  // kNone when the section is absent
  // The address to hold. For cloudflare: the address this host writes into the DNS record.
  std::optional<util::Ipv4> address;
  std::string token_file;                  // API token; digitalocean, hetzner, cloudflare
  std::optional<std::uint64_t> droplet_id;  // digitalocean; nullopt = "auto" (metadata service)
  std::optional<std::uint64_t> server_id;   // hetzner; nullopt = "auto" (metadata service)
  std::string zone_id;                      // cloudflare, required
  std::string record;                       // cloudflare: the DNS name (A record), required
  std::vector<std::string> command;         // exec, required: argv of the claim program
  std::string api_url;       // defaults per provider (api.digitalocean.com, ...); empty for exec
  std::string metadata_url = "http://169.254.169.254";
  util::Duration reconcile_interval = std::chrono::seconds(30);  // re-check while MASTER

  bool operator==(const ReservedIpConfig&) const = default;
};

// ---- [virtual_ip], [notify], [control], [metrics] ----

struct VirtualIpConfig {
  std::vector<Cidr> addresses;  // key "address", repeatable
  // Gratuitous ARPs per address on becoming MASTER: one at once, the rest garp_interval apart,
  // in case the first is lost or a switch is slow to learn (keepalived: garp_master_repeat).
  int garp_count = 3;
  util::Duration garp_interval = std::chrono::seconds(1);

  bool operator==(const VirtualIpConfig&) const = default;
};

struct NotifyConfig {
  // Absolute paths of hooks, run with argv INSTANCE STATE PRIORITY; empty = none.
  std::string master;
  std::string backup;
  std::string fault;
  std::string stop;
  util::Duration timeout = std::chrono::seconds(30);

  bool operator==(const NotifyConfig&) const = default;
};

struct ControlConfig {
  std::string socket;  // default "/run/failoverd/<instance.name>.sock"

  bool operator==(const ControlConfig&) const = default;
};

struct MetricsConfig {
  std::optional<std::string> listen;  // "host:port"; unset = no metrics endpoint

  bool operator==(const MetricsConfig&) const = default;
};

struct Config {
  InstanceConfig instance;
  VrrpConfig vrrp;
  std::vector<CheckConfig> checks;  // in the order of the file
  ReservedIpConfig reserved_ip;
  VirtualIpConfig virtual_ip;
  NotifyConfig notify;
  ControlConfig control;
  MetricsConfig metrics;

  bool operator==(const Config&) const = default;
};

// Parses and validates INI text. `overrides` are "section.key=value" strings (the section may
// contain dots: "check.web.timeout=2s") applied as if written at the end of the file: they
// replace a non-repeatable key and add to a repeatable one. Does no I/O.
util::Expected<Config, Problems> parse_config(std::string_view ini_text,
                                              const std::vector<std::string>& overrides = {});

// The file-system checks: the auth key and token files exist, are regular files, are not
// accessible by group or others (mode & 077 == 0, as ssh insists), and hold a usable secret.
// Secrets are read to check them but never appear in a message.
Problems check_files(const Config& cfg);

// Reads the file (a problem if it cannot be read), parses it and checks the files it names.
// All problems are reported together, including file problems of an otherwise invalid config.
util::Expected<Config, Problems> load_config(const std::string& path,
                                             const std::vector<std::string>& overrides = {});

// A secret file's content with trailing whitespace removed; refused when it is not a regular
// file, is accessible by group or others, is empty, or is larger than 64 KiB. The error text
// names the path and the reason, never the content.
//
// `path` may also be "credential:NAME": the systemd credential NAME, the file of that name in
// $CREDENTIALS_DIRECTORY (LoadCredential=NAME:/etc/failoverd/do.token in the unit). Refused
// with a clear error when no credentials are passed to this process.
util::Expected<std::string, std::string> read_secret_file(const std::string& path);

// "credential:": the prefix of a secret that comes from a systemd credential.
inline constexpr std::string_view kCredentialPrefix = "credential:";
// Where the secret `spec` is on disk: the path itself, or the credential's file. The error
// names the spec and says what is missing.
util::Expected<std::string, std::string> secret_path(const std::string& spec);

// The udp transport's HMAC key: read_secret_file(), and at least proto::kMinKeySize bytes.
util::Expected<std::vector<std::uint8_t>, std::string> read_key_file(const std::string& path);

// The state machine's parameters. `primary_address` is the address adverts are sent from
// (vrrp.source, or the interface's first IPv4 address: resolving that is the caller's job).
core::Params to_core_params(const Config& cfg, util::Ipv4 primary_address);

}  // namespace failoverd::config
