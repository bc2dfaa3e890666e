// The INI parser (src/config/config.cpp): failoverd --check-config, reloads and failoverctl
// read files an operator (or a generator, or import-keepalived) wrote, plus --set overrides.
//
// Input: the INI text, then optionally a NUL byte and "section.key=value" overrides, one a
// line.
//
// Contract: never throws. A refusal lists at most 51 problems (50 and an "and N more" line),
// each with a non-empty message and a non-empty to_string(). An accepted config holds the
// documented ranges, parses the same way twice, and re-validates: written back out as INI
// (below) it parses to the same Config.
#include <algorithm>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "failoverd/config/config.h"
#include "fuzz_support.h"

namespace cfg = failoverd::config;
using failoverd::util::format_duration;

namespace {

// Values the writer below cannot quote faithfully: the round trip is skipped for them.
bool plain(const std::string& s) {
  if (s.empty()) return true;
  if (s.front() == ' ' || s.front() == '\t' || s.back() == ' ' || s.back() == '\t') return false;
  return s.find_first_of("#\"'\n\r;[]") == std::string::npos;
}

struct Writer {
  std::ostringstream out;
  bool faithful = true;
  void section(const std::string& name) { out << "[" << name << "]\n"; }
  void kv(const char* key, const std::string& value) {
    faithful = faithful && plain(value);
    out << key << " = " << value << "\n";
  }
  void command(const char* key, const std::vector<std::string>& argv) {
    std::string line;
    for (const auto& a : argv) {
      faithful = faithful && plain(a) && !a.empty();
      if (!line.empty()) line += ' ';
      if (a.find_first_of(" \t") != std::string::npos)
        line += "\"" + a + "\"";
      else
        line += a;
    }
    out << key << " = " << line << "\n";
  }
};

const char* boolean(bool b) { return b ? "true" : "false"; }

std::string write_ini(const cfg::Config& c, bool& faithful) {
  Writer w;
  w.section("instance");
  w.kv("name", c.instance.name);
  w.kv("interface", c.instance.interface);
  for (const auto& t : c.instance.track_interfaces) w.kv("track_interface", t);
  w.kv("realtime_priority", std::to_string(c.instance.realtime_priority));
  w.kv("lock_memory", boolean(c.instance.lock_memory));

  const auto& v = c.vrrp;
  w.section("vrrp");
  w.kv("virtual_router_id", std::to_string(v.virtual_router_id));
  w.kv("priority", std::to_string(v.priority));
  w.kv("advert_interval", format_duration(v.advert_interval));
  w.kv("preempt", boolean(v.preempt));
  w.kv("preempt_delay", format_duration(v.preempt_delay));
  w.kv("transport", cfg::to_string(v.transport));
  for (const auto& p : v.peers) w.kv("peer", p.to_string());
  if (v.source) w.kv("source", v.source->to_string());
  if (v.transport == cfg::Transport::kUdp) {
    w.kv("port", std::to_string(v.port));
    w.kv("auth_key_file", v.auth_key_file);
  }
  w.kv("checksum_pseudo_header", boolean(v.checksum_pseudo_header));

  for (const auto& k : c.checks) {
    w.section("check." + k.name);
    w.kv("type", cfg::to_string(k.type()));
    w.kv("interval", format_duration(k.interval));
    w.kv("timeout", format_duration(k.timeout));
    w.kv("rise", std::to_string(k.rise));
    w.kv("fall", std::to_string(k.fall));
    w.kv("weight", std::to_string(k.weight));
    if (const auto* d = std::get_if<cfg::DockerCheckSpec>(&k.spec)) {
      w.kv("socket", d->socket);
      w.kv("min_running", std::to_string(d->min_running));
      for (const auto& l : d->labels) w.kv("label", l);
      if (d->name) w.kv("name", *d->name);
    } else if (const auto* h = std::get_if<cfg::HttpCheckSpec>(&k.spec)) {
      w.kv("url", h->url);
      w.kv("expect_status", std::to_string(h->expect_status));
      if (h->expect_body) w.kv("expect_body", *h->expect_body);
      w.kv("tls_verify", boolean(h->tls_verify));
    } else if (const auto* t = std::get_if<cfg::TcpCheckSpec>(&k.spec)) {
      w.kv("address", t->address.to_string());
    } else if (const auto* e = std::get_if<cfg::ExecCheckSpec>(&k.spec)) {
      w.command("command", e->command);
      if (e->user) w.kv("user", *e->user);
    }
  }

  const auto& r = c.reserved_ip;
  if (r.provider != cfg::Provider::kNone) {
    w.section("reserved_ip");
    w.kv("provider", cfg::to_string(r.provider));
    if (r.address) w.kv("address", r.address->to_string());
    if (!r.token_file.empty()) w.kv("token_file", r.token_file);
    if (r.provider == cfg::Provider::kDigitalOcean)
      w.kv("droplet_id", r.droplet_id ? std::to_string(*r.droplet_id) : "auto");
    if (r.provider == cfg::Provider::kHetzner)
      w.kv("server_id", r.server_id ? std::to_string(*r.server_id) : "auto");
    if (!r.zone_id.empty()) w.kv("zone_id", r.zone_id);
    if (!r.record.empty()) w.kv("record", r.record);
    if (!r.command.empty()) w.command("command", r.command);
    if (!r.api_url.empty()) w.kv("api_url", r.api_url);
    // Only the providers that ask the metadata service for their own id take the key.
    if (r.provider == cfg::Provider::kDigitalOcean || r.provider == cfg::Provider::kHetzner)
      w.kv("metadata_url", r.metadata_url);
    w.kv("reconcile_interval", format_duration(r.reconcile_interval));
  }

  w.section("virtual_ip");
  for (const auto& a : c.virtual_ip.addresses) w.kv("address", a.to_string());
  w.kv("garp_count", std::to_string(c.virtual_ip.garp_count));
  w.kv("garp_interval", format_duration(c.virtual_ip.garp_interval));

  w.section("notify");
  if (!c.notify.master.empty()) w.kv("master", c.notify.master);
  if (!c.notify.backup.empty()) w.kv("backup", c.notify.backup);
  if (!c.notify.fault.empty()) w.kv("fault", c.notify.fault);
  if (!c.notify.stop.empty()) w.kv("stop", c.notify.stop);
  w.kv("timeout", format_duration(c.notify.timeout));

  w.section("control");
  w.kv("socket", c.control.socket);
  if (c.metrics.listen) {
    w.section("metrics");
    w.kv("listen", *c.metrics.listen);
  }
  faithful = w.faithful;
  return w.out.str();
}

std::string describe(const cfg::Problems& problems) {
  std::string out;
  for (const auto& p : problems) out += p.to_string() + "\n";
  return out;
}

void run(std::string_view input) {
  const auto [text, rest] = fuzz::split_at(input, '\0');
  std::vector<std::string> overrides;
  if (input.find('\0') != std::string_view::npos) overrides = fuzz::lines(rest);

  const auto parsed = cfg::parse_config(text, overrides);
  if (!parsed) {
    const auto& problems = parsed.error();
    FUZZ_CHECK(!problems.empty(), "refused with no problem");
    FUZZ_CHECK(problems.size() <= 51, std::to_string(problems.size()) + " problems");
    for (const auto& p : problems) {
      FUZZ_CHECK(!p.message.empty(), p.section + " " + p.key);
      FUZZ_CHECK(!p.to_string().empty(), p.message);
    }
    return;
  }
  const cfg::Config& c = *parsed;
  FUZZ_CHECK(!c.instance.name.empty() && c.instance.name.size() <= 32, c.instance.name);
  FUZZ_CHECK(!c.instance.interface.empty(), "no interface");
  FUZZ_CHECK(c.vrrp.virtual_router_id >= 1, "vrid 0");
  FUZZ_CHECK(c.vrrp.priority >= 1, "priority 0");
  FUZZ_CHECK(c.vrrp.advert_interval >= std::chrono::milliseconds(10) &&
                 c.vrrp.advert_interval <= std::chrono::milliseconds(40950),
             format_duration(c.vrrp.advert_interval));
  FUZZ_CHECK(c.checks.size() <= 64, std::to_string(c.checks.size()));
  FUZZ_CHECK(c.virtual_ip.addresses.size() <= 255, std::to_string(c.virtual_ip.addresses.size()));
  for (const auto& k : c.checks) {
    FUZZ_CHECK(k.timeout < k.interval, k.name);
    FUZZ_CHECK(k.weight >= -254 && k.weight <= 254, k.name);
  }
  if (c.vrrp.transport == cfg::Transport::kUdp)
    FUZZ_CHECK(!c.vrrp.auth_key_file.empty(), "udp without auth_key_file");

  const auto again = cfg::parse_config(text, overrides);
  FUZZ_CHECK(again && *again == c, "parse is not deterministic");

  bool faithful = true;
  const std::string ini = write_ini(c, faithful);
  if (!faithful) return;
  const auto back = cfg::parse_config(ini);
  FUZZ_CHECK(back.has_value(), ini + "\n--- refused:\n" + describe(back.error()));
  FUZZ_CHECK(*back == c, ini);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FUZZ_GUARD(run(fuzz::as_text(data, size)));
  return 0;
}
