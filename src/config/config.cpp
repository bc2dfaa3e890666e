#include "failoverd/config/config.h"

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "config_internal.h"
#include "failoverd/config/schema.h"
#include "failoverd/util/text.h"

namespace failoverd::config {

using namespace std::chrono_literals;

std::string Problem::to_string() const {
  // Section names and keys come from the file: a hostile one is cut, not echoed in full.
  const auto cut = [](const std::string& s) {
    constexpr std::size_t kMax = 64;
    return s.size() > kMax ? s.substr(0, kMax) + "..." : s;
  };
  std::string out;
  if (!section.empty()) out = "[" + cut(section) + "]";
  if (!key.empty()) {
    if (!out.empty()) out += ' ';
    out += cut(key) + ":";
  }
  if (!out.empty()) out += ' ';
  // And the message, which may quote a value: a last bound on one problem's length (a 10 MB
  // --set must not become a 10 MB diagnostic).
  constexpr std::size_t kMaxMessage = 240;
  if (message.size() > kMaxMessage) return out + message.substr(0, kMaxMessage) + "...";
  return out + message;
}

const char* to_string(Transport t) {
  switch (t) {
    case Transport::kVrrp: return "vrrp";
    case Transport::kUdp: return "udp";
  }
  return "?";
}

const char* to_string(InstantHandover h) {
  switch (h) {
    case InstantHandover::kAuto: return "auto";
    case InstantHandover::kYes: return "yes";
    case InstantHandover::kNo: return "no";
  }
  return "?";
}

const char* to_string(CheckType t) {
  switch (t) {
    case CheckType::kDocker: return "docker";
    case CheckType::kHttp: return "http";
    case CheckType::kTcp: return "tcp";
    case CheckType::kExec: return "exec";
  }
  return "?";
}

const char* to_string(Provider p) {
  switch (p) {
    case Provider::kNone: return "none";
    case Provider::kDigitalOcean: return "digitalocean";
    case Provider::kHetzner: return "hetzner";
    case Provider::kCloudflare: return "cloudflare";
    case Provider::kExec: return "exec";
  }
  return "?";
}

core::Params to_core_params(const Config& cfg, util::Ipv4 primary_address) {
  core::Params p;
  p.priority = cfg.vrrp.priority;
  p.advert_interval = cfg.vrrp.advert_interval;
  p.preempt = cfg.vrrp.preempt;
  p.preempt_delay = cfg.vrrp.preempt_delay;
  p.primary_address = primary_address;
  // core applies instant handover only with exactly one peer besides primary_address, which is
  // what auto means; yes is that too (the parser refused it without exactly one peer).
  p.peers = cfg.vrrp.peers;
  p.instant_handover = cfg.vrrp.instant_handover != InstantHandover::kNo;
  return p;
}

namespace {

using Kind = SectionKind;

// A value quoted for a message; long ones are cut, so one bad line cannot flood the log.
std::string quoted(std::string_view s) {
  constexpr std::size_t kMax = 60;
  if (s.size() > kMax) return "\"" + std::string(s.substr(0, kMax)) + "...\"";
  return "\"" + std::string(s) + "\"";
}

// ---------------------------------------------------------------------------------------------
// Reading the text. The INI syntax is small (`[section]`, `key = value`, `#` comments and
// `;` comment lines) and lexed here, line by line, because the contract is one problem per
// mistake, all of them at once, each with its line: Boost.Program_options' config-file parser
// (used for the command lines) stops at the first malformed line by throwing, keeps no line
// numbers, and reads a `;` line differently across versions (1.74 does not take it for a comment).

struct Entry {
  std::string section;
  std::string key;
  std::string value;
};

// The first problems are the ones to fix first; a megabyte of garbage must not become tens of
// megabytes of diagnostics (nor their memory, during a reload on the event loop).
constexpr std::size_t kMaxProblems = 50;
constexpr std::size_t kMaxChecks = 64;

struct Lexed {
  std::vector<Entry> entries;
  Problems problems;
  std::size_t omitted = 0;  // problems past kMaxProblems, counted, not kept

  void report(Problem p) {
    if (problems.size() < kMaxProblems)
      problems.push_back(std::move(p));
    else
      ++omitted;
  }
};

Lexed lex(std::string_view text) {
  Lexed out;
  std::string section;
  bool in_section = false;
  bool section_ok = false;
  std::set<std::string> reported_sections;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto nl = text.find('\n', pos);
    const std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    const std::string where = "line " + std::to_string(line_no);

    std::string_view content = line.substr(0, line.find('#'));
    // A line starting with ';' is a comment, as in most INI dialects.
    if (!content.empty() && content.front() == ';') content = {};
    const std::string s(util::trim(content));
    if (s.empty()) {
      // nothing
    } else if (s.front() == '[' && s.back() == ']') {
      section = s.substr(1, s.size() - 2);
      in_section = true;
      if (section.empty()) {
        out.report({"", where, "\"[]\" is an empty section name"});
        section_ok = false;
      } else if (auto kind = section_kind(section); !kind) {
        if (reported_sections.insert(section).second) {
          out.report({section, "", kind.error()});
        }
        section_ok = false;
      } else {
        section_ok = true;
      }
    } else if (const auto eq = s.find('='); eq != std::string::npos) {
      std::string key(util::trim(std::string_view(s).substr(0, eq)));
      if (!in_section) {
        out.report({"", key.empty() ? where : key,
                                "is outside any section (start one with e.g. [instance])"});
      } else if (!section_ok) {
        // Its section is already reported; its keys would only add noise.
      } else if (key.empty()) {
        out.report({section, where, "has no key before \"=\""});
      } else {
        out.entries.push_back(
            {section, std::move(key), std::string(util::trim(std::string_view(s).substr(eq + 1)))});
      }
    } else {
      out.report({in_section ? section : "", where,
                              quoted(s) + " is neither a [section] nor a key = value line"});
    }
  }

  return out;
}

// ---------------------------------------------------------------------------------------------
// Grouping: entries by section, with unknown and duplicate keys reported and the command-line
// overrides applied.

struct RawSection {
  std::string name;
  Kind kind = Kind::kInstance;
  std::map<std::string, std::vector<std::string>, std::less<>> values;  // key -> values in order
};

class Sections {
 public:
  explicit Sections(Problems& problems) : problems_(problems) {}

  void add_file_entries(const std::vector<Entry>& entries) {
    std::map<std::pair<std::string, std::string>, int> counts;
    for (const auto& e : entries) {
      RawSection* raw = section(e.section);
      if (raw == nullptr) continue;
      const KeySpec* spec = find_key(raw->kind, e.key);
      if (spec == nullptr) {
        report_unknown(e.section, e.key);
        continue;
      }
      if (!spec->repeatable && ++counts[{e.section, e.key}] == 2) {
        problems_.push_back({e.section, e.key, "is set more than once (the last value is used)"});
      }
      raw->values[e.key].push_back(e.value);
    }
  }

  void add_override(const std::string& text) {
    const auto eq = text.find('=');
    const std::string name(util::trim(std::string_view(text).substr(0, eq)));
    const auto dot = name.rfind('.');
    if (eq == std::string::npos || dot == std::string::npos || dot == 0 ||
        dot + 1 == name.size()) {
      problems_.push_back({"command line", text,
                           "is not section.key=value (e.g. vrrp.priority=200)"});
      return;
    }
    const std::string section_name = name.substr(0, dot);
    const std::string key = name.substr(dot + 1);
    if (auto kind = section_kind(section_name); !kind) {
      problems_.push_back({"command line", text, "[" + section_name + "] " + kind.error()});
      return;
    }
    RawSection* raw = section(section_name);
    const KeySpec* spec = find_key(raw->kind, key);
    if (spec == nullptr) {
      report_unknown(section_name, key);
      return;
    }
    auto& values = raw->values[key];
    if (!spec->repeatable) values.clear();
    values.emplace_back(util::trim(std::string_view(text).substr(eq + 1)));
  }

  const RawSection* find(std::string_view name) const {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : &sections_[it->second];
  }
  const std::vector<RawSection>& all() const { return sections_; }

 private:
  // The section, created on first use; nullptr for a name that is not a section.
  RawSection* section(const std::string& name) {
    if (const auto it = index_.find(name); it != index_.end()) return &sections_[it->second];
    auto kind = section_kind(name);
    if (!kind) return nullptr;
    index_.emplace(name, sections_.size());
    sections_.push_back({name, *kind, {}});
    return &sections_.back();
  }

  void report_unknown(const std::string& section_name, const std::string& key) {
    if (reported_unknown_.insert({section_name, key}).second) {
      problems_.push_back({section_name, key, "unknown key"});
    }
  }

  Problems& problems_;
  std::vector<RawSection> sections_;                   // in order of first appearance
  std::map<std::string, std::size_t, std::less<>> index_;  // name -> position in sections_
  std::set<std::pair<std::string, std::string>> reported_unknown_;
};

// ---------------------------------------------------------------------------------------------
// Typed reading of one section. Every read_* leaves `out` untouched unless the value is valid,
// and reports what is wrong as a Problem of this section.

class Reader {
 public:
  Reader(const RawSection* raw, std::string section, Problems& problems)
      : raw_(raw), section_(std::move(section)), problems_(problems) {}

  const std::string& section() const { return section_; }

  bool given(std::string_view key) const {
    return raw_ != nullptr && raw_->values.find(key) != raw_->values.end();
  }

  std::vector<std::string> given_keys() const {
    std::vector<std::string> keys;
    if (raw_ != nullptr) {
      for (const auto& [k, v] : raw_->values) keys.push_back(k);
    }
    return keys;
  }

  void problem(std::string key, std::string message) {
    problems_.push_back({section_, std::move(key), std::move(message)});
  }

  // The (last) value of a key; nullopt when not given or empty (an empty value is reported).
  std::optional<std::string> get(std::string_view key) {
    if (!given(key)) return std::nullopt;
    const std::string& v = raw_->values.find(key)->second.back();
    if (v.empty()) {
      problem(std::string(key), "has no value");
      return std::nullopt;
    }
    return v;
  }

  // Like get(), and "is required" when the key is not given at all.
  std::optional<std::string> required(std::string_view key) {
    if (!given(key)) {
      problem(std::string(key), "is required");
      return std::nullopt;
    }
    return get(key);
  }

  // Every value of a repeatable key, empty ones reported and dropped. More than `max` values
  // is one problem and none are read: far past any hand-written file, and a bound on the work.
  std::vector<std::string> get_all(std::string_view key, std::size_t max) {
    std::vector<std::string> out;
    if (!given(key)) return out;
    if (const auto n = raw_->values.find(key)->second.size(); n > max) {
      problem(std::string(key), "is given " + std::to_string(n) + " times; at most " +
                                    std::to_string(max) + " are allowed");
      return out;
    }
    for (const auto& v : raw_->values.find(key)->second) {
      if (v.empty()) {
        problem(std::string(key), "has no value");
      } else {
        out.push_back(v);
      }
    }
    return out;
  }

  template <typename T>
  void read_int(std::string_view key, T& out, std::int64_t min, std::int64_t max) {
    if (auto v = get(key)) store_int(key, *v, out, min, max);
  }

  template <typename T>
  void store_int(std::string_view key, const std::string& text, T& out, std::int64_t min,
                 std::int64_t max) {
    auto n = parse_int(text, min, max);
    if (n) {
      out = static_cast<T>(*n);
    } else {
      problem(std::string(key), n.error());
    }
  }

  void read_bool(std::string_view key, bool& out) {
    auto v = get(key);
    if (!v) return;
    auto b = parse_bool(*v);
    if (b) {
      out = *b;
    } else {
      problem(std::string(key), b.error());
    }
  }

  // `range` is how the limits read in the message, e.g. "10ms..40.95s". True when the key is
  // absent (out keeps its default) or valid.
  bool read_duration(std::string_view key, util::Duration& out, util::Duration min,
                     util::Duration max, std::string_view range) {
    if (!given(key)) return true;
    auto v = get(key);
    return v && store_duration(key, *v, out, min, max, range);
  }

  bool store_duration(std::string_view key, const std::string& text, util::Duration& out,
                      util::Duration min, util::Duration max, std::string_view range) {
    auto d = util::parse_duration(text);
    if (!d) {
      problem(std::string(key), d.error());
      return false;
    }
    if (*d < min || *d > max) {
      problem(std::string(key), text + " is out of range " + std::string(range));
      return false;
    }
    out = *d;
    return true;
  }

  // An absolute path without spaces or control characters at the ends (trimmed already).
  void read_path(std::string_view key, std::string& out) {
    if (auto v = get(key)) store_path(key, *v, out);
  }

  bool store_path(std::string_view key, const std::string& text, std::string& out) {
    if (text.front() != '/') {
      problem(std::string(key), quoted(text) + " is not an absolute path");
      return false;
    }
    out = text;
    return true;
  }

  // A secret's file: an absolute path, or "credential:NAME" for a systemd credential
  // (LoadCredential=NAME:/path in the unit), read from $CREDENTIALS_DIRECTORY at start.
  void read_secret_path(std::string_view key, std::string& out) {
    auto v = get(key);
    if (!v) return;
    if (v->rfind(kCredentialPrefix, 0) == 0) {
      const std::string name = v->substr(kCredentialPrefix.size());
      if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
        problem(std::string(key), quoted(*v) + ": a credential name must be one path component");
        return;
      }
      out = *v;
      return;
    }
    store_path(key, *v, out);
  }

  // A single word: no spaces (names, ids, users).
  void read_word(std::string_view key, std::string& out) {
    auto v = get(key);
    if (!v) return;
    if (v->find_first_of(" \t") != std::string::npos) {
      problem(std::string(key), quoted(*v) + " must not contain spaces");
      return;
    }
    out = *v;
  }

  void read_url(std::string_view key, std::string& out) {
    auto v = get(key);
    if (!v) return;
    const bool http = v->rfind("http://", 0) == 0 && v->size() > 7;
    const bool https = v->rfind("https://", 0) == 0 && v->size() > 8;
    if ((!http && !https) || v->find_first_of(" \t") != std::string::npos) {
      problem(std::string(key), quoted(*v) + " is not an http:// or https:// URL");
      return;
    }
    out = *v;
  }

  void read_unicast(std::string_view key, std::optional<util::Ipv4>& out) {
    if (auto v = get(key)) out = parse_unicast(key, *v);
  }

  std::optional<util::Ipv4> parse_unicast(std::string_view key, const std::string& text) {
    auto a = util::Ipv4::parse(text);
    if (!a) {
      problem(std::string(key), quoted(text) + " is not an IPv4 address");
      return std::nullopt;
    }
    if (!is_unicast(*a)) {
      problem(std::string(key), text + " is not a unicast address");
      return std::nullopt;
    }
    return a;
  }

  // A string with one of `names`; returns the index.
  template <std::size_t N>
  std::optional<std::size_t> read_choice(std::string_view key,
                                         const std::array<const char*, N>& names,
                                         std::string_view what) {
    auto v = get(key);
    if (!v) return std::nullopt;
    for (std::size_t i = 0; i < N; ++i) {
      if (*v == names[i]) return i;
    }
    std::string list;
    for (std::size_t i = 0; i < N; ++i) {
      if (i > 0) list += (i + 1 == N) ? " or " : ", ";
      list += names[i];
    }
    problem(std::string(key),
            quoted(*v) + " is not a " + std::string(what) + " (use " + list + ")");
    return std::nullopt;
  }

 private:
  const RawSection* raw_;
  std::string section_;
  Problems& problems_;
};

bool valid_interface_name(std::string_view s) {
  // The kernel's dev_valid_name(): shorter than IFNAMSIZ, no '/', ':' or whitespace.
  if (s.empty() || s.size() > 15 || s == "." || s == "..") return false;
  return s.find_first_of("/: \t\r\n\f\v") == std::string_view::npos;
}

void read_interface(Reader& r, std::string_view key, const std::string& text, std::string& out) {
  if (valid_interface_name(text)) {
    out = text;
  } else {
    r.problem(std::string(key), quoted(text) + " is not an interface name (1..15 characters, no "
                                               "'/', ':' or spaces)");
  }
}

// ---------------------------------------------------------------------------------------------
// The sections.

void read_instance(Reader r, InstanceConfig& out) {
  if (auto v = r.required("name")) {
    if (valid_name(*v, /*allow_dot=*/true)) {
      out.name = *v;
    } else {
      r.problem("name", quoted(*v) + " must be 1..32 characters of A-Z a-z 0-9 _ . -");
    }
  }
  if (auto v = r.required("interface")) read_interface(r, "interface", *v, out.interface);
  std::set<std::string> tracked;  // a set, not a scan of the list: linear in the file's size
  for (const auto& v : r.get_all("track_interface", 64)) {
    std::string name;
    read_interface(r, "track_interface", v, name);
    if (name.empty()) continue;
    if (!tracked.insert(name).second) {
      r.problem("track_interface", name + " is listed twice");
      continue;
    }
    out.track_interfaces.push_back(name);
  }
  r.read_int("realtime_priority", out.realtime_priority, 0, 99);
  r.read_bool("lock_memory", out.lock_memory);
}

// auto, or a boolean (yes/no and its spellings). REQUIRES: out.peers read already.
void read_instant_handover(Reader& r, VrrpConfig& out) {
  auto v = r.get("instant_handover");
  if (!v) return;
  if (*v == "auto") {
    out.instant_handover = InstantHandover::kAuto;
    return;
  }
  auto b = parse_bool(*v);
  if (!b) {
    r.problem("instant_handover", quoted(*v) + " is not auto, yes or no");
    return;
  }
  out.instant_handover = *b ? InstantHandover::kYes : InstantHandover::kNo;
  // yes promises a handover without Skew_Time: refuse a config where it would not apply
  // rather than run with the RFC wait the operator thinks is off.
  if (!*b || out.peers.size() == 1) return;
  if (out.peers.empty()) {
    r.problem("instant_handover",
              *v + " needs exactly one peer; without peer (multicast) any number of backups "
                   "may listen, and Skew_Time orders them (use auto or no)");
  } else {
    r.problem("instant_handover",
              *v + " needs exactly one peer, " + std::to_string(out.peers.size()) +
                  " are listed; with several backups Skew_Time orders them (use auto or no)");
  }
}

void read_vrrp(Reader r, VrrpConfig& out) {
  if (auto v = r.required("virtual_router_id")) {
    r.store_int("virtual_router_id", *v, out.virtual_router_id, 1, 255);
  }
  if (auto v = r.get("priority")) {
    // 255 is accepted (the address owner) but the range users mean is 1..254.
    auto n = parse_int(*v, 0, 255, "1..254");
    if (!n) {
      r.problem("priority", n.error());
    } else if (*n == 0) {
      r.problem("priority", "0 is reserved for a master that resigns (use 1..254, or 255 for "
                            "the address owner)");
    } else {
      out.priority = static_cast<std::uint8_t>(*n);
    }
  }
  if (auto v = r.get("advert_interval")) {
    util::Duration d{};
    if (r.store_duration("advert_interval", *v, d, 10ms, 40950ms, "10ms..40.95s")) {
      if (d.count() % 10'000 != 0) {
        r.problem("advert_interval",
                  *v + " is not a multiple of 10ms (VRRPv3 sends the interval in centiseconds)");
      } else {
        out.advert_interval = d;
      }
    }
  }
  r.read_bool("preempt", out.preempt);
  r.read_duration("preempt_delay", out.preempt_delay, 0s, 1h, "0s..1h");
  bool transport_known = true;
  if (r.given("transport")) {
    auto t = r.read_choice("transport", std::array{"vrrp", "udp"}, "transport");
    if (t) {
      out.transport = static_cast<Transport>(*t);
    } else {
      transport_known = false;
    }
  }
  r.read_unicast("source", out.source);
  std::set<util::Ipv4> peers;
  for (const auto& v : r.get_all("peer", 64)) {
    auto peer = r.parse_unicast("peer", v);
    if (!peer) continue;
    if (!peers.insert(*peer).second) {
      r.problem("peer", v + " is listed twice");
      continue;
    }
    if (out.source && *peer == *out.source) {
      r.problem("peer", v + " is this host's own source address");
      continue;
    }
    out.peers.push_back(*peer);
  }
  r.read_int("port", out.port, 1, 65535);
  r.read_secret_path("auth_key_file", out.auth_key_file);
  r.read_bool("checksum_pseudo_header", out.checksum_pseudo_header);
  read_instant_handover(r, out);

  if (!transport_known) return;
  if (out.transport == Transport::kUdp) {
    if (!r.given("auth_key_file")) r.problem("auth_key_file", "is required with transport udp");
    if (!r.given("peer")) {
      r.problem("peer", "is required with transport udp (multicast is for transport vrrp only)");
    }
  } else {
    if (r.given("auth_key_file")) {
      r.problem("auth_key_file", "is only used with transport udp (transport is vrrp)");
    }
    if (r.given("port")) r.problem("port", "is only used with transport udp (transport is vrrp)");
  }
}

// Which check type each type-specific key belongs to.
std::optional<CheckType> check_key_type(std::string_view key) {
  static const std::pair<std::string_view, CheckType> kKeys[] = {
      {"socket", CheckType::kDocker},    {"min_running", CheckType::kDocker},
      {"label", CheckType::kDocker},     {"name", CheckType::kDocker},
      {"url", CheckType::kHttp},         {"expect_status", CheckType::kHttp},
      {"expect_body", CheckType::kHttp}, {"tls_verify", CheckType::kHttp},
      {"address", CheckType::kTcp},      {"command", CheckType::kExec},
      {"user", CheckType::kExec}};
  for (const auto& [k, t] : kKeys) {
    if (k == key) return t;
  }
  return std::nullopt;
}

DockerCheckSpec read_docker(Reader& r) {
  DockerCheckSpec s;
  r.read_path("socket", s.socket);
  r.read_int("min_running", s.min_running, 1, 100000);
  for (const auto& v : r.get_all("label", 64)) {
    const auto eq = v.find('=');
    if (eq == 0 || v.find_first_of(" \t") != std::string::npos) {
      r.problem("label", quoted(v) + " is not a label filter (use key or key=value)");
      continue;
    }
    s.labels.push_back(v);
  }
  if (r.given("name")) {
    std::string name;
    r.read_word("name", name);
    if (!name.empty()) s.name = name;
  }
  return s;
}

HttpCheckSpec read_http(Reader& r) {
  HttpCheckSpec s;
  if (r.given("url")) {
    r.read_url("url", s.url);
  } else {
    r.problem("url", "is required for type http");
  }
  r.read_int("expect_status", s.expect_status, 100, 599);
  if (auto v = r.get("expect_body")) s.expect_body = *v;
  r.read_bool("tls_verify", s.tls_verify);
  return s;
}

TcpCheckSpec read_tcp(Reader& r) {
  TcpCheckSpec s;
  if (!r.given("address")) {
    r.problem("address", "is required for type tcp");
  } else if (auto v = r.get("address")) {
    auto hp = parse_host_port(*v);
    if (hp) {
      s.address = *hp;
    } else {
      r.problem("address", hp.error());
    }
  }
  return s;
}

ExecCheckSpec read_exec(Reader& r) {
  ExecCheckSpec s;
  if (!r.given("command")) {
    r.problem("command", "is required for type exec");
  } else if (auto v = r.get("command")) {
    auto argv = split_command(*v);
    if (argv) {
      s.command = *argv;
    } else {
      r.problem("command", argv.error());
    }
  }
  if (r.given("user")) {
    std::string user;
    r.read_word("user", user);
    if (!user.empty()) s.user = user;
  }
  return s;
}

std::optional<CheckConfig> read_check(Reader r) {
  CheckConfig c;
  c.name = r.section().substr(kCheckPrefix.size());
  std::optional<CheckType> type;
  if (r.given("type")) {
    if (auto t = r.read_choice("type", std::array{"docker", "http", "tcp", "exec"}, "check type")) {
      type = static_cast<CheckType>(*t);
    }
  } else {
    r.problem("type", "is required (docker, http, tcp or exec)");
  }
  const bool interval_ok = r.read_duration("interval", c.interval, 10ms, 24h, "10ms..24h");
  const bool timeout_ok = r.read_duration("timeout", c.timeout, 10ms, 1h, "10ms..1h");
  if (interval_ok && timeout_ok && c.timeout >= c.interval) {
    const std::string limit = " must be shorter than interval " + util::format_duration(c.interval);
    if (r.given("timeout")) {
      r.problem("timeout", util::format_duration(c.timeout) + limit);
    } else {
      r.problem("timeout", "the default " + util::format_duration(c.timeout) + limit +
                               "; set a shorter timeout");
    }
  }
  r.read_int("rise", c.rise, 1, 100);
  r.read_int("fall", c.fall, 1, 100);
  r.read_int("weight", c.weight, -254, 254);
  if (!type) return std::nullopt;

  for (const auto& key : r.given_keys()) {
    const auto owner = check_key_type(key);
    if (owner && *owner != *type) {
      r.problem(key, std::string("is a key of ") + to_string(*owner) + " checks, and this check " +
                         "is type " + to_string(*type));
    }
  }
  switch (*type) {
    case CheckType::kDocker: c.spec = read_docker(r); break;
    case CheckType::kHttp: c.spec = read_http(r); break;
    case CheckType::kTcp: c.spec = read_tcp(r); break;
    case CheckType::kExec: c.spec = read_exec(r); break;
  }
  return c;
}

void read_reserved_ip(Reader r, ReservedIpConfig& out) {
  if (!r.given("provider")) {
    r.problem("provider", "is required (digitalocean, hetzner, cloudflare, exec or none)");
    return;
  }
  auto p = r.read_choice("provider",
                         std::array{"none", "digitalocean", "hetzner", "cloudflare", "exec"},
                         "provider");
  if (!p) return;
  out.provider = static_cast<Provider>(*p);
  const Provider provider = out.provider;
  const std::string name = to_string(provider);

  // Keys that only one provider (or only the API providers) use.
  if (provider != Provider::kNone) {
    const bool api = provider == Provider::kDigitalOcean || provider == Provider::kHetzner ||
                     provider == Provider::kCloudflare;
    const std::pair<std::string_view, bool> kUsedBy[] = {
        {"token_file", api},
        {"api_url", api},
        {"metadata_url", provider == Provider::kDigitalOcean || provider == Provider::kHetzner},
        {"droplet_id", provider == Provider::kDigitalOcean},
        {"server_id", provider == Provider::kHetzner},
        {"zone_id", provider == Provider::kCloudflare},
        {"record", provider == Provider::kCloudflare},
        {"command", provider == Provider::kExec}};
    for (const auto& [key, used] : kUsedBy) {
      if (!used && r.given(key)) r.problem(std::string(key), "is not used by provider " + name);
    }
  }

  r.read_unicast("address", out.address);
  r.read_secret_path("token_file", out.token_file);
  for (auto [key, field] : {std::pair{"droplet_id", &out.droplet_id},
                            std::pair{"server_id", &out.server_id}}) {
    auto v = r.get(key);
    if (!v || *v == "auto") continue;
    auto n = parse_int(*v, 1, std::numeric_limits<std::int64_t>::max());
    if (n) {
      *field = static_cast<std::uint64_t>(*n);
    } else {
      r.problem(key, quoted(*v) + " is not auto or a positive number");
    }
  }
  r.read_word("zone_id", out.zone_id);
  r.read_word("record", out.record);
  if (auto v = r.get("command")) {
    auto argv = split_command(*v);
    if (argv) {
      out.command = *argv;
    } else {
      r.problem("command", argv.error());
    }
  }
  switch (provider) {
    case Provider::kDigitalOcean: out.api_url = "https://api.digitalocean.com"; break;
    case Provider::kHetzner: out.api_url = "https://api.hetzner.cloud"; break;
    case Provider::kCloudflare: out.api_url = "https://api.cloudflare.com/client/v4"; break;
    default: break;
  }
  r.read_url("api_url", out.api_url);
  r.read_url("metadata_url", out.metadata_url);
  r.read_duration("reconcile_interval", out.reconcile_interval, 1s, 1h, "1s..1h");

  if (provider == Provider::kNone) return;
  if (!r.given("address")) r.problem("address", "is required with provider " + name);
  const bool needs_token = provider == Provider::kDigitalOcean ||
                           provider == Provider::kHetzner || provider == Provider::kCloudflare;
  if (needs_token && !r.given("token_file")) {
    r.problem("token_file", "is required with provider " + name);
  }
  if (provider == Provider::kCloudflare) {
    if (!r.given("zone_id")) r.problem("zone_id", "is required with provider cloudflare");
    if (!r.given("record")) r.problem("record", "is required with provider cloudflare");
  }
  if (provider == Provider::kExec && !r.given("command")) {
    r.problem("command", "is required with provider exec");
  }
}

void read_virtual_ip(Reader r, VirtualIpConfig& out) {
  std::set<util::Ipv4> addresses;
  // An advert lists every virtual address, and its count field is 8 bits.
  for (const auto& v : r.get_all("address", 255)) {
    auto cidr = parse_cidr(v);
    if (!cidr) {
      r.problem("address", cidr.error());
      continue;
    }
    if (!is_unicast(cidr->address)) {
      r.problem("address", cidr->address.to_string() + " is not a unicast address");
      continue;
    }
    if (!addresses.insert(cidr->address).second) {
      r.problem("address", cidr->address.to_string() + " is listed twice");
      continue;
    }
    out.addresses.push_back(*cidr);
  }
  r.read_int("garp_count", out.garp_count, 1, 100);
  r.read_duration("garp_interval", out.garp_interval, 10ms, 60s, "10ms..60s");
}

void read_notify(Reader r, NotifyConfig& out) {
  r.read_path("master", out.master);
  r.read_path("backup", out.backup);
  r.read_path("fault", out.fault);
  r.read_path("stop", out.stop);
  r.read_duration("timeout", out.timeout, 10ms, 1h, "10ms..1h");
}

// sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
constexpr std::size_t kMaxSocketPath = 107;

void read_control(Reader r, ControlConfig& out, const std::string& instance_name) {
  if (r.given("socket")) {
    r.read_path("socket", out.socket);
  } else if (!instance_name.empty()) {
    out.socket = "/run/failoverd/" + instance_name + ".sock";
  }
  if (out.socket.size() > kMaxSocketPath) {
    r.problem("socket", "is " + std::to_string(out.socket.size()) +
                            " bytes long; a unix socket path has at most 107");
    out.socket.clear();
  }
}

void read_metrics(Reader r, MetricsConfig& out) {
  auto v = r.get("listen");
  if (!v) return;
  auto address = parse_listen_address(*v);
  if (address) {
    out.listen = *v;
  } else {
    r.problem("listen", address.error());
  }
}

}  // namespace

namespace internal {

ParseResult parse(std::string_view ini_text, const std::vector<std::string>& overrides) {
  ParseResult result;
  Lexed lexed = lex(ini_text);
  Problems& problems = result.problems;
  problems = std::move(lexed.problems);

  Sections sections(problems);
  sections.add_file_entries(lexed.entries);
  for (const auto& o : overrides) sections.add_override(o);

  auto reader = [&](const std::string& name) {
    return Reader(sections.find(name), name, problems);
  };
  Config& cfg = result.config;
  read_instance(reader("instance"), cfg.instance);
  read_vrrp(reader("vrrp"), cfg.vrrp);
  // Each check is a timer and a worker on the daemon; far more than an operator writes by hand
  // is a generated or hostile file, refused as a whole rather than read section by section.
  const auto check_sections = static_cast<std::size_t>(std::count_if(
      sections.all().begin(), sections.all().end(),
      [](const RawSection& raw) { return raw.kind == Kind::kCheck; }));
  if (check_sections > kMaxChecks) {
    problems.push_back({"", "", std::to_string(check_sections) + " [check.NAME] sections; at most " +
                                    std::to_string(kMaxChecks) + " are allowed"});
  } else {
    for (const auto& raw : sections.all()) {
      if (raw.kind != Kind::kCheck) continue;
      if (auto check = read_check(Reader(&raw, raw.name, problems))) {
        cfg.checks.push_back(std::move(*check));
      }
    }
  }
  // Without the section there is no reserved IP (provider none); with it, provider is required.
  if (sections.find("reserved_ip") != nullptr) {
    read_reserved_ip(reader("reserved_ip"), cfg.reserved_ip);
  }
  read_virtual_ip(reader("virtual_ip"), cfg.virtual_ip);
  read_notify(reader("notify"), cfg.notify);
  read_control(reader("control"), cfg.control, cfg.instance.name);
  read_metrics(reader("metrics"), cfg.metrics);

  std::size_t omitted = lexed.omitted;
  if (problems.size() > kMaxProblems) {
    omitted += problems.size() - kMaxProblems;
    problems.resize(kMaxProblems);
  }
  if (omitted > 0)
    problems.push_back({"", "", "and " + std::to_string(omitted) + " more problems (not shown)"});
  return result;
}

}  // namespace internal

util::Expected<Config, Problems> parse_config(std::string_view ini_text,
                                              const std::vector<std::string>& overrides) {
  internal::ParseResult r = internal::parse(ini_text, overrides);
  if (!r.problems.empty()) return util::unexpected(std::move(r.problems));
  return std::move(r.config);
}

}  // namespace failoverd::config
