#include "failoverd/importer/keepalived_import.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <utility>

#include "failoverd/config/schema.h"
#include "failoverd/config/values.h"
#include "failoverd/importer/ini_writer.h"
#include "failoverd/importer/keepalived_script.h"
#include "failoverd/util/duration.h"
#include "failoverd/util/ipv4.h"
#include "failoverd/util/text.h"

namespace failoverd::importer {

namespace {

using util::Duration;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------
// Output helpers.

bool printable(char c) { return c >= 0x20 && c < 0x7f; }

// Text for a comment: one line, printable ASCII, bounded.
std::string for_comment(std::string_view s) {
  constexpr std::size_t kMax = 160;
  std::string out;
  for (const char c : s.substr(0, kMax)) out += printable(c) ? c : '?';
  if (s.size() > kMax) out += "...";
  return out;
}

// A keepalived statement as the user wrote it (roughly): words joined, quoted when needed.
std::string show(const KeepalivedNode& n) {
  std::string out;
  for (const auto& w : n.words) {
    if (!out.empty()) out += ' ';
    const bool quote = w.empty() || w.find_first_of(" \t") != std::string::npos;
    out += quote ? "\"" + w + "\"" : w;
  }
  if (n.has_block) out += " { ... }";
  return for_comment(out);
}

std::string at(const KeepalivedNode& n) { return "line " + std::to_string(n.line); }

// argv as failoverd's exec command: split on blanks, double quotes group (and cannot be
// escaped); nullopt when some argument cannot be written that way. config's own split reads
// the text back, so the command failoverd runs is this argv or nothing.
std::optional<std::string> render_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += (a.empty() || a.find_first_of(" \t") != std::string::npos) ? "\"" + a + "\"" : a;
  }
  if (!writable_value(out)) return std::nullopt;
  const auto back = config::split_command(out);
  if (!back || *back != argv) return std::nullopt;
  return out;
}

// The kernel's dev_valid_name(), as failoverd's config parser checks it.
bool valid_interface_name(std::string_view s) {
  if (s.empty() || s.size() > 15 || s == "." || s == "..") return false;
  return s.find_first_of("/: \t\r\n\f\v") == std::string_view::npos;
}

// keepalived's inet_stosockaddr() ignores a "/mask" or "-range" after an address.
std::string strip_mask(const std::string& s) { return s.substr(0, s.find_first_of("/-")); }

// A name made of `allowed` characters (others become '_'), at most 32 long.
std::string sanitize_name(std::string_view s, bool allow_dot) {
  std::string out;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || (allow_dot && c == '.');
    out += ok ? c : '_';
    if (out.size() == 32) break;
  }
  if (!config::valid_name(out, allow_dot)) out = "keepalived";
  return out;
}

// keepalived's decimal seconds ("1", "0.25", "4.12") as microseconds; nullopt when malformed
// or above `max_s` whole seconds.
std::optional<Duration> parse_seconds(std::string_view s, std::int64_t max_s) {
  if (s.empty()) return std::nullopt;
  std::int64_t whole = 0;
  std::size_t i = 0;
  bool digits = false;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    whole = whole * 10 + (s[i] - '0');
    digits = true;
    if (whole > max_s) return std::nullopt;
  }
  std::int64_t micros = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::int64_t scale = 100000;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      micros += (s[i] - '0') * scale;  // digits beyond microseconds are dropped
      scale /= 10;
      digits = true;
    }
  }
  if (!digits || i != s.size()) return std::nullopt;
  return Duration(whole * 1'000'000 + micros);
}

std::optional<int> parse_int(std::string_view s, int min, int max) {
  std::size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) negative = s[i++] == '-';
  if (i == s.size() || s.size() - i > 9) return std::nullopt;
  int value = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    value = value * 10 + (s[i] - '0');
  }
  if (negative) value = -value;
  if (value < min || value > max) return std::nullopt;
  return value;
}

std::optional<bool> parse_bool(std::string_view s) {
  const std::string l = util::lower(s);
  if (l == "on" || l == "true" || l == "yes") return true;
  if (l == "off" || l == "false" || l == "no") return false;
  return std::nullopt;
}

// "3.61s", "414ms": for comments only.
std::string human(Duration d) {
  char buf[32];
  const double ms = static_cast<double>(d.count()) / 1000.0;
  if (ms >= 1000) {
    std::snprintf(buf, sizeof buf, "%.2fs", ms / 1000.0);
  } else {
    std::snprintf(buf, sizeof buf, "%.0fms", ms);
  }
  return buf;
}

// ---------------------------------------------------------------------------------------------
// The translation.

// What keepalived's gratuitous ARP options change, and what they cannot.
constexpr const char* kGarpDifference =
    "failoverd sends garp_count gratuitous ARPs garp_interval apart on becoming MASTER "
    "([virtual_ip]); this only changes how often neighbours are told, not which node is MASTER "
    "or whether the address moves";

// A FIXME line: printable, no '#' (a comment in failoverd's syntax) and no '=' (it would read
// as a key), so the config parser reports the line itself.
std::string fixme_line(std::size_t line, std::string_view text) {
  std::string out = "FIXME keepalived line " + std::to_string(line) + ": " + for_comment(text);
  for (char& c : out) {
    if (c == '#' || c == '=') c = '?';
  }
  return out;
}

struct TrackedScript {
  std::string name;
  std::size_t line = 0;
  std::optional<int> weight;  // track_script's own weight, overriding the script's
  bool reverse = false;
  std::vector<std::string> extra;  // unknown words after the name
};

class Translator {
 public:
  Translator(const std::vector<KeepalivedNode>& tree, const ImportOptions& options)
      : tree_(tree), options_(options) {}

  util::Expected<ImportResult, ImportError> run();

 private:
  void warn(const KeepalivedNode& n, const std::string& text) {
    std::string w = at(n) + ": " + text;
    for (char& c : w) c = printable(c) ? c : '?';
    result_.warnings.push_back(std::move(w));
  }
  // A note in the header block of things with no place in any section.
  void top_note(const KeepalivedNode& n, const std::string& text) {
    top_notes_.push_back(at(n) + ": " + text);
  }
  static void note(IniSection& s, const KeepalivedNode& n, const std::string& text) {
    s.note("keepalived " + at(n) + ": " + text);
  }
  // Adds `key = value`, or, when failoverd's syntax cannot hold the value, a FIXME note.
  void key(IniSection& s, const KeepalivedNode& n, const std::string& k, const std::string& v) {
    if (writable_value(v)) {
      s.set(k, v);
      return;
    }
    fixme(s, n, k + " cannot be written in failoverd's syntax (no '#', control characters or "
                "surrounding blanks): set it by hand");
  }
  // The output must not validate until the user acts: a FIXME line, and the same as a warning.
  void fixme(IniSection& s, const KeepalivedNode& n, const std::string& text) {
    s.fixme(fixme_line(n.line, text));
    warn(n, "FIXME: " + text);
  }
  void top_fixme(const KeepalivedNode& n, const std::string& text) {
    top_fixmes_.push_back(fixme_line(n.line, text));
    warn(n, "FIXME: " + text);
  }

  void scan_top_level();
  void global_defs(const KeepalivedNode& n);
  void instance(const KeepalivedNode& n);
  void unicast_peers(const KeepalivedNode& n);
  void sync_groups(const std::string& chosen);
  void virtual_ips(const KeepalivedNode& n, bool excluded);
  void track_interfaces(const KeepalivedNode& n);
  void track_scripts(const KeepalivedNode& n);
  void notify_hook(const KeepalivedNode& n, const std::string& key);
  void check(const TrackedScript& t);
  util::Expected<std::string, std::string> render();

  const std::vector<KeepalivedNode>& tree_;
  const ImportOptions& options_;
  ImportResult result_;

  std::vector<std::string> top_notes_;
  std::vector<std::string> top_fixmes_;
  std::vector<const KeepalivedNode*> instances_;
  std::map<std::string, const KeepalivedNode*> scripts_;
  std::size_t virtual_servers_ = 0;
  std::size_t first_virtual_server_line_ = 0;

  // From global_defs.
  int global_version_ = 2;
  const KeepalivedNode* global_version_node_ = nullptr;
  std::optional<std::string> script_user_;
  bool global_checksum_as_v2_ = false;
  const KeepalivedNode* global_mcast_group_ = nullptr;  // vrrp_mcast_group4

  // The translated instance.
  IniSection instance_{"instance"};
  IniSection vrrp_{"vrrp"};
  std::vector<IniSection> checks_;
  IniSection vip_{"virtual_ip"};
  IniSection notify_{"notify"};
  std::string interface_;
  std::optional<std::string> source_;
  std::vector<util::Ipv4> peers_;
  std::vector<util::Ipv4> vips_;
  std::set<std::string> check_names_;
  std::set<std::string> notify_seen_;
  std::set<std::string> tracked_interfaces_;
  std::set<std::string> instance_names_;
  std::vector<const KeepalivedNode*> sync_groups_;
  std::vector<TrackedScript> tracked_;
};

void Translator::scan_top_level() {
  static const std::set<std::string> kIncludes = {"include", "includer", "includem", "includew",
                                                  "includeb", "includea"};
  static const std::set<std::string> kLvs = {"virtual_server", "virtual_server_group",
                                             "real_server"};
  for (const auto& n : tree_) {
    const std::string& k = n.words[0];
    if (k == "global_defs") {
      global_defs(n);
    } else if (k == "vrrp_instance") {
      // keepalived (vrrp_handler) skips an instance without a name or with the name of an
      // earlier one, block and all.
      if (n.words.size() < 2) {
        top_note(n, "vrrp_instance without a name: keepalived skips it; so does this file");
        warn(n, "vrrp_instance without a name: keepalived skips it");
      } else if (!instance_names_.insert(n.words[1]).second) {
        top_note(n, "vrrp_instance " + for_comment(n.words[1]) + " is defined again: keepalived "
                    "skips this block; so does this file");
        warn(n, "vrrp_instance " + for_comment(n.words[1]) + " is defined twice: keepalived "
                "uses the first");
      } else {
        instances_.push_back(&n);
      }
    } else if (k == "vrrp_script") {
      if (n.words.size() < 2) {
        top_note(n, "vrrp_script without a name: skipped");
        warn(n, "vrrp_script without a name: skipped");
      } else if (!scripts_.emplace(n.words[1], &n).second) {
        top_note(n, "vrrp_script " + for_comment(n.words[1]) + " is defined twice; the first "
                    "definition is used");
        warn(n, "vrrp_script " + for_comment(n.words[1]) + " is defined twice");
      }
    } else if (kIncludes.count(k) != 0) {
      top_note(n, show(n) + ": not followed; translate the included file(s) separately, or "
                  "merge them into one file first");
      warn(n, show(n) + " is not followed: its options are not translated");
    } else if (kLvs.count(k) != 0) {
      if (virtual_servers_++ == 0) first_virtual_server_line_ = n.line;
    } else if (k == "vrrp_sync_group") {
      sync_groups_.push_back(&n);
    } else if (!k.empty() && k[0] == '@') {
      top_note(n, show(n) + ": conditional configuration is not evaluated; skipped");
      warn(n, "conditional line (@...) skipped: edit the output for this host");
    } else if (!k.empty() && k[0] == '$') {
      top_note(n, show(n) + ": parameter definitions are not substituted");
      warn(n, "parameter substitution ($NAME) is not supported: words using it are copied as "
              "they are");
    } else if (k == "static_ipaddress" || k == "static_routes" || k == "static_rules") {
      // keepalived adds these at start: without keepalived the host would lose them.
      if (n.children.empty()) {
        top_note(n, k + ": empty; nothing to map");
      } else {
        top_fixme(n, k + ": keepalived adds these at start, failoverd does not: move them to "
                     "the system's network configuration, then delete this line");
      }
    } else if (k == "net_namespace") {
      top_fixme(n, "net_namespace: keepalived runs in network namespace " +
                       for_comment(n.words.size() > 1 ? n.words[1] : "") +
                       "; failoverd runs where its unit puts it (NetworkNamespacePath=): set "
                       "that, then delete this line");
    } else {
      top_note(n, show(n) + ": not mapped");
    }
  }
}

void Translator::global_defs(const KeepalivedNode& n) {
  for (const auto& c : n.children) {
    const std::string& k = c.words[0];
    const std::string arg = c.words.size() > 1 ? c.words[1] : "";
    if (k == "vrrp_version") {
      if (auto v = parse_int(arg, 2, 3)) {
        global_version_ = *v;
        global_version_node_ = &c;
        continue;
      }
      top_note(c, show(c) + ": not 2 or 3; ignored");
    } else if (k == "script_user") {
      script_user_ = arg;
      top_note(c, show(c) + ": mapped to the user of the exec checks; failoverd runs notify "
                  "hooks as its own user" +
                      std::string(c.words.size() > 2 ? " (the group is not mapped)" : ""));
    } else if (k == "v3_checksum_as_v2" || k == "vrrp_v3_checksum_as_v2") {
      global_checksum_as_v2_ = c.words.size() < 2 || parse_bool(arg).value_or(true);
    } else if (k == "vrrp_down_timer_adverts" && arg != "3") {
      top_fixme(c, "vrrp_down_timer_adverts " + for_comment(arg) + ": failoverd waits 3 adverts "
                   "(plus Skew_Time) before taking over: delete this line to accept that");
    } else if (k == "startup_script" || k == "shutdown_script") {
      top_fixme(c, k + ": failoverd runs no script when it starts or stops, so it would not "
                   "run: use a systemd drop-in (ExecStartPre=/ExecStopPost=), then delete this "
                   "line");
    } else if (k == "vrrp_startup_delay" || k == "vrrp_delay_after_boot") {
      top_fixme(c, k + ": keepalived stays out of the election for a while after start; "
                   "failoverd starts as BACKUP at once (preempt_delay only holds back "
                   "preemption): delete this line to accept that");
    } else if (k == "vrrp_strict") {
      top_fixme(c, "vrrp_strict: keepalived drops traffic to the virtual IPs on a MASTER that "
                   "is not the owner (and refuses unicast and authentication); failoverd "
                   "accepts it: delete this line to accept it");
    } else if (k == "notify_fifo" || k == "vrrp_notify_fifo" || k == "notify_fifo_script" ||
               k == "vrrp_notify_fifo_script") {
      top_fixme(c, k + ": failoverd writes no FIFO, so its reader would hear nothing: use "
                   "[notify] hooks, then delete this line");
    } else if (k == "vrrp_mcast_group4") {
      global_mcast_group_ = &c;
    } else if (k == "lvs_sync_daemon") {
      top_fixme(c, "lvs_sync_daemon: keepalived runs the IPVS sync daemon with the VRRP state; "
                   "failoverd does not: start it from [notify] hooks, then delete this line");
    } else if (k == "net_namespace") {
      top_fixme(c, "net_namespace: keepalived runs in network namespace " + for_comment(arg) +
                       "; failoverd runs where its unit puts it (NetworkNamespacePath=): set "
                       "that, then delete this line");
    } else if (k == "enable_script_security") {
      top_note(c, k + ": not needed: failoverd always refuses hook scripts that others can "
                  "modify");
    } else if (k == "router_id") {
      top_note(c, show(c) + ": not mapped: [instance] name identifies the instance in logs");
    } else if (k.rfind("notification_email", 0) == 0 || k.rfind("smtp_", 0) == 0) {
      top_note(c, show(c) + ": not mapped: failoverd sends no mail (use a [notify] hook)");
    } else if (k.rfind("vrrp_garp_", 0) == 0 || k.rfind("vrrp_gna_", 0) == 0 ||
               k == "vrrp_min_garp") {
      top_note(c, show(c) + ": not mapped: " + kGarpDifference);
    } else {
      top_note(c, "global_defs " + show(c) + ": not mapped");
    }
  }
}

// A sync group makes its instances change state together and may carry notify hooks and
// track_scripts for all of them: failoverd has neither, so an instance of a group cannot keep
// its meaning. Other groups do not concern the translated instance.
void Translator::sync_groups(const std::string& chosen) {
  for (const KeepalivedNode* g : sync_groups_) {
    const std::string gname = g->words.size() > 1 ? g->words[1] : "";
    bool member = false;
    for (const auto& c : g->children) {
      if (c.words[0] != "group") continue;
      for (const auto& line : c.children) {
        member = member || std::find(line.words.begin(), line.words.end(), chosen) !=
                               line.words.end();
      }
    }
    if (!member) {
      top_note(*g, show(*g) + ": not mapped (vrrp_instance " + for_comment(chosen) +
                       " is not in it): failoverd has no sync groups");
      continue;
    }
    top_fixme(*g, "vrrp_instance " + chosen + " is in vrrp_sync_group " + gname +
                      ": failoverd has no sync groups (its instances fail over independently)");
    for (const auto& c : g->children) {
      if (c.words[0] == "group") continue;
      top_note(c, "vrrp_sync_group " + for_comment(gname) + ": " + show(c) + ": lost");
      warn(c, "vrrp_sync_group " + for_comment(gname) + ": " + show(c) + " is not mapped");
    }
  }
}

void Translator::unicast_peers(const KeepalivedNode& n) {
  for (const auto& c : n.children) {
    const std::string text = strip_mask(c.words[0]);
    const auto a = util::Ipv4::parse(text);
    if (!a) {
      note(vrrp_, c, "unicast_peer " + for_comment(text) + ": not an IPv4 address; failoverd "
                     "is IPv4 only, not mapped");
      warn(c, "unicast_peer " + for_comment(text) + " is not mapped (not an IPv4 address)");
      continue;
    }
    if (c.words.size() > 1) {
      note(vrrp_, c, show(c) + ": the peer is mapped, its options are not (failoverd accepts "
                     "adverts with TTL 255 only)");
    }
    if (std::find(peers_.begin(), peers_.end(), *a) != peers_.end()) {
      note(vrrp_, c, "unicast_peer " + text + " is listed twice; kept once");
      continue;
    }
    peers_.push_back(*a);
  }
}

void Translator::virtual_ips(const KeepalivedNode& n, bool excluded) {
  if (excluded) {
    note(vip_, n, "virtual_ipaddress_excluded: these addresses are added like the others; "
                  "failoverd does not list virtual IPs in its adverts either way");
  }
  for (const auto& c : n.children) {
    const std::string& text = c.words[0];
    const auto slash = text.find('/');
    const std::string addr_text = text.substr(0, slash);
    const auto a = util::Ipv4::parse(addr_text);
    if (!a) {
      // keepalived would add it (an IPv6 address, or a name it resolves); failoverd cannot.
      note(vip_, c, for_comment(text) + ": not an IPv4 address (failoverd is IPv4 only); not "
                    "mapped");
      fixme(vip_, c, "virtual IP " + for_comment(text) + " is not an IPv4 address: failoverd "
                     "is IPv4 only: drop it or keep keepalived for it");
      continue;
    }
    int prefix = 32;
    if (slash == std::string::npos) {
      note(vip_, c, text + " has no prefix length: /32, as keepalived");
    } else {
      const std::string len_text = text.substr(slash + 1);
      const auto len = parse_int(len_text, 1, 32);
      if (len && len_text.size() <= 2) prefix = *len;
      if (!len || len_text.size() > 2) {
        note(vip_, c, for_comment(text) + ": the prefix length is not 1..32; not mapped");
        warn(c, "virtual IP " + for_comment(text) + " has an invalid prefix length");
        continue;
      }
    }
    // Options: `dev X` matters (failoverd adds every address to `interface`); the rest
    // (label, scope, brd, no_track, ...) have no equivalent.
    std::vector<std::string> unmapped;
    for (std::size_t i = 1; i < c.words.size(); ++i) {
      if (c.words[i] == "dev" && i + 1 < c.words.size()) {
        const std::string& dev = c.words[++i];
        if (!interface_.empty() && dev != interface_) {
          // The address would appear on another link than keepalived put it on.
          fixme(vip_, c, "virtual IP " + text + " is on " + dev + " in keepalived; failoverd "
                         "adds virtual IPs to interface " + interface_ + " only: move it or "
                         "drop it");
        }
        continue;
      }
      if (c.words[i] == "use_vmac") {
        fixme(vip_, c, "virtual IP " + text + " use_vmac: keepalived answers for it from a "
                       "virtual MAC that moves with it; failoverd from the interface's own MAC: "
                       "delete use_vmac if no neighbour pins the virtual MAC");
        continue;
      }
      unmapped.push_back(c.words[i]);
    }
    if (!unmapped.empty()) {
      std::string list;
      for (const auto& u : unmapped) list += (list.empty() ? "" : " ") + u;
      note(vip_, c, text + ": options not mapped (failoverd adds a plain address; the address "
                        "still moves to the MASTER): " + for_comment(list));
    }
    if (std::find(vips_.begin(), vips_.end(), *a) != vips_.end()) {
      note(vip_, c, addr_text + " is listed twice; kept once");
      continue;
    }
    vips_.push_back(*a);
    // config's own parser, so the address written is the one failoverd will read.
    const auto cidr = config::parse_cidr(a->to_string() + "/" + std::to_string(prefix));
    if (!cidr) {
      fixme(vip_, c, "virtual IP " + for_comment(text) + ": " + cidr.error());
      continue;
    }
    key(vip_, c, "address", cidr->to_string());
  }
}

void Translator::track_interfaces(const KeepalivedNode& n) {
  std::vector<KeepalivedNode> items;
  // "track_interface eth0" on one line: keepalived reads the words after the keyword as the
  // block's first line.
  if (n.words.size() > 1) {
    items.push_back({{n.words.begin() + 1, n.words.end()}, n.line, false, {}});
  }
  items.insert(items.end(), n.children.begin(), n.children.end());
  for (const auto& c : items) {
    if (!valid_interface_name(c.words[0])) {
      fixme(instance_, c, "track_interface " + c.words[0] + " is not an interface name: fix or "
                          "remove it");
      continue;
    }
    if (!tracked_interfaces_.insert(c.words[0]).second) {
      note(instance_, c, "track_interface " + c.words[0] + " is listed twice; kept once");
      continue;
    }
    // keepalived: "weight 0" (or none) is FAULT on link down, as in failoverd; another
    // weight changes the priority instead, which failoverd's tracked interfaces cannot.
    const bool weight_zero = c.words.size() == 1 ||
                             (c.words.size() == 3 && c.words[1] == "weight" &&
                              parse_int(c.words[2], 0, 0));
    if (!weight_zero) {
      fixme(instance_, c, "track_interface " + show(c) + ": failoverd puts the instance in "
                          "FAULT when a tracked link is down; keepalived changes the priority "
                          "by the weight: drop the weight or the line");
      continue;
    }
    key(instance_, c, "track_interface", c.words[0]);
  }
}

void Translator::track_scripts(const KeepalivedNode& n) {
  for (const auto& c : n.children) {
    TrackedScript t;
    t.name = c.words[0];
    t.line = c.line;
    for (std::size_t i = 1; i < c.words.size(); ++i) {
      const std::string& w = c.words[i];
      if (w == "weight" && i + 1 < c.words.size()) {
        t.weight = parse_int(c.words[++i], -254, 254);
        if (!t.weight) t.extra.push_back("weight " + c.words[i]);
      } else if (w == "reverse") {
        t.reverse = true;
      } else if (w != "no_reverse" && w != "noreverse") {
        t.extra.push_back(w);
      }
    }
    tracked_.push_back(std::move(t));
  }
}

void Translator::notify_hook(const KeepalivedNode& n, const std::string& k) {
  // keepalived keeps the first notify_<state> script and ignores later ones (vrrp_parser.c).
  if (!notify_seen_.insert(k).second) {
    note(notify_, n, show(n) + ": ignored: keepalived uses the first " + n.words[0] + " only");
    warn(n, n.words[0] + " is given twice; keepalived (and this file) use the first");
    return;
  }
  if (n.words.size() < 2) {
    note(notify_, n, show(n) + ": no script given; not mapped");
    return;
  }
  const auto argv = split_keepalived_command(n.words[1]);
  if (argv.empty()) {
    note(notify_, n, show(n) + ": no script given; not mapped");
    return;
  }
  if (argv[0].empty() || argv[0][0] != '/') {
    fixme(notify_, n, n.words[0] + ": failoverd needs an absolute path for [notify] " + k);
    return;
  }
  if (argv.size() > 1) {
    // failoverd runs the hook with INSTANCE STATE PRIORITY: a hook without the script's own
    // arguments would run, but mean something else.
    std::string args;
    for (std::size_t i = 1; i < argv.size(); ++i) args += " " + argv[i];
    note(notify_, n, n.words[0] + " passes the arguments" + for_comment(args) +
                         "; failoverd runs a "
                         "hook as PROGRAM INSTANCE STATE PRIORITY: write a wrapper script that "
                         "runs the command line and set " + k + " to its path");
    fixme(notify_, n, n.words[0] + " has arguments that failoverd cannot pass: set [notify] " +
                          k + " to a wrapper script");
    return;
  }
  key(notify_, n, k, argv[0]);
  if (n.words.size() > 2) {
    note(notify_, n, n.words[0] + ": the user/group " + for_comment(n.words[2]) +
                         " is not mapped: hooks run as failoverd's user");
    warn(n, n.words[0] + ": keepalived ran it as " + for_comment(n.words[2]) + "; failoverd runs "
            "hooks as its own user");
  }
}

void Translator::check(const TrackedScript& t) {
  const KeepalivedNode anchor{{"track_script"}, t.line, false, {}};
  const auto it = scripts_.find(t.name);
  if (it == scripts_.end()) {
    top_note(anchor, "track_script " + for_comment(t.name) + ": no vrrp_script of that name; "
                     "not mapped");
    warn(anchor, "track_script " + for_comment(t.name) + " names no vrrp_script");
    return;
  }
  const KeepalivedNode& s = *it->second;

  // The script's settings, with keepalived's defaults.
  const KeepalivedNode* script = nullptr;
  Duration interval = 1s;
  std::optional<Duration> timeout;
  int rise = 1;
  int fall = 1;
  int weight = 0;
  bool reverse = false;
  std::optional<std::string> user;
  const KeepalivedNode* init_fail = nullptr;
  std::vector<std::string> unmapped;
  for (const auto& c : s.children) {
    const std::string& k = c.words[0];
    const std::string arg = c.words.size() > 1 ? c.words[1] : "";
    if (k == "script") {
      script = &c;
    } else if (k == "interval") {
      if (auto d = parse_seconds(arg, 86400); d && d->count() > 0) interval = *d;
      else unmapped.push_back(show(c) + " (invalid)");
    } else if (k == "timeout") {
      if (auto d = parse_seconds(arg, 86400); d && d->count() > 0) timeout = *d;
      else unmapped.push_back(show(c) + " (invalid)");
    } else if (k == "rise" || k == "fall") {
      if (auto v = parse_int(arg, 1, 1'000'000)) {
        (k == "rise" ? rise : fall) = *v;
      } else {
        unmapped.push_back(show(c) + " (invalid)");
      }
    } else if (k == "weight") {
      if (auto v = parse_int(arg, -254, 254)) weight = *v;
      else unmapped.push_back(show(c) + " (invalid)");
      reverse = c.words.size() > 2 && c.words[2] == "reverse";
    } else if (k == "init_fail") {
      init_fail = &c;
    } else if (k == "user") {
      user = arg;
      if (c.words.size() > 2) unmapped.push_back("user group " + for_comment(c.words[2]));
    } else {
      unmapped.push_back(show(c));
    }
  }
  if (t.weight) weight = *t.weight;
  if (t.reverse) reverse = true;

  std::string name = sanitize_name(t.name, /*allow_dot=*/false);
  for (int i = 2; !check_names_.insert(name).second; ++i) {
    name = sanitize_name(t.name, false).substr(0, 28) + "_" + std::to_string(i);
  }
  IniSection sec("check." + name);
  note(sec, s, "vrrp_script " + for_comment(t.name) + (name != t.name ? " (renamed: failoverd "
                                                                        "check names are 1..32 "
                                                                        "of A-Z a-z 0-9 _ -)"
                                                                      : ""));
  if (init_fail != nullptr) {
    note(sec, *init_fail, "init_fail: as failoverd, where a check fails until it has passed "
                          "rise times");
  }
  bool tcp = false;
  if (script == nullptr || script->words.size() < 2 ||
      split_keepalived_command(script->words[1]).empty()) {
    sec.set("type", "exec");
    fixme(sec, s, "vrrp_script " + t.name + " has no script (keepalived drops such a script): "
                  "set command");
  } else {
    const ScriptMapping m = map_keepalived_script(split_keepalived_command(script->words[1]));
    const std::string where = show(*script) + ": ";
    if (m.kind == ScriptMapping::Kind::kTcp) {
      tcp = true;
      sec.set("type", "tcp");
      note(sec, *script, where + m.why);
      key(sec, *script, "address", m.address.to_string());
      // Where /bin/sh decides, the user must know which one their keepalived host had.
      if (m.depends_on_sh) {
        warn(*script, "vrrp_script " + for_comment(t.name) + ": translated as a tcp check of " +
                          m.address.to_string() + ", what keepalived did with bash as /bin/sh; "
                          "with dash (Debian, Ubuntu) keepalived's check always failed");
      }
    } else if (m.kind == ScriptMapping::Kind::kRefused) {
      sec.set("type", "exec");
      note(sec, *script, where + m.why);
      fixme(sec, *script, "the script of vrrp_script " + t.name + ": " + m.why);
    } else if (auto cmd = render_command(m.argv)) {
      sec.set("type", "exec");
      if (!m.why.empty()) note(sec, *script, where + m.why);
      sec.set("command", *cmd);
    } else {
      sec.set("type", "exec");
      note(sec, *script, where + "cannot be written as a failoverd command (an argument holds "
                         "'\"', '#' or a control character): put it in a script file and set "
                         "command to its path");
      fixme(sec, *script, "the script of vrrp_script " + t.name + " cannot be written as a "
                          "failoverd command: set command by hand");
    }
    if (script->words.size() > 2) {
      note(sec, *script, "words after the quoted script are ignored by keepalived and here: " +
                             show(*script));
    }
    const std::string joined = util::lower(script->words[1]);
    if (joined.find("docker") != std::string::npos || joined.find("podman") != std::string::npos) {
      note(sec, *script, "failoverd also has a built-in container check (type = docker, "
                         "min_running, label) that needs no script; see failoverd.conf");
    }
  }

  // failoverd checks need timeout < interval; keepalived allows a timeout up to (and by
  // default equal to) the interval.
  Duration failoverd_timeout = timeout.value_or(interval);
  if (failoverd_timeout >= interval) {
    failoverd_timeout = interval - 10ms;
    if (failoverd_timeout < 10ms) failoverd_timeout = 10ms;
    note(sec, s, std::string("timeout: failoverd needs it shorter than the interval; keepalived ") +
                     (timeout ? "had " + util::format_duration(*timeout) : "had none (the "
                                                                           "interval)"));
    if (timeout) warn(s, "vrrp_script " + for_comment(t.name) + ": timeout shortened to " +
                util::format_duration(failoverd_timeout) + " (failoverd needs it below the "
                "interval): a run slower than that fails here but passed in keepalived");
  }
  if (tcp) {
    // bash's connect has no timeout of its own: keepalived's script timeout ended it.
    note(sec, s, "timeout: bounds the name lookup and the connection, as keepalived's script "
                 "timeout bounded the shell that made it");
  }
  sec.set("interval", util::format_duration(interval));
  sec.set("timeout", util::format_duration(failoverd_timeout));
  const auto bounded = [&](const char* k, int v) {
    if (v > 100) {
      note(sec, s, std::string(k) + " " + std::to_string(v) + " is above failoverd's 100; 100");
      v = 100;
    }
    sec.set(k, std::to_string(v));
  };
  bounded("rise", rise);
  bounded("fall", fall);
  sec.set("weight", std::to_string(weight));
  if (weight > 0) {
    note(sec, s, "weight " + std::to_string(weight) + ": added to the priority while the check "
                 "passes, as in keepalived");
  } else if (weight < 0) {
    note(sec, s, "weight " + std::to_string(weight) + ": subtracted from the priority while the "
                 "check fails, as in keepalived");
  } else {
    note(sec, s, "weight 0: a failing check puts the instance in FAULT, as in keepalived");
  }
  if (reverse) {
    fixme(sec, s, "weight ... reverse: failoverd has no reverse weights and would apply it "
                  "the other way round: remove the check or invert the script");
  }
  if (tcp && (user || script_user_)) {
    // Only a firewall rule matching the owner would see the difference.
    note(sec, s, "user " + for_comment(user ? *user : *script_user_) + ": a tcp check connects "
                 "as failoverd's user; a TCP connection is the same from any user");
  } else if (user) {
    key(sec, s, "user", *user);
  } else if (script_user_) {
    key(sec, s, "user", *script_user_);
    note(sec, s, "user: global_defs script_user");
  }
  for (const auto& u : unmapped) note(sec, s, u + ": not mapped");
  if (!t.extra.empty()) {
    std::string list;
    for (const auto& e : t.extra) list += " " + e;
    note(sec, anchor, "track_script options not mapped:" + for_comment(list));
  }
  checks_.push_back(std::move(sec));
}

void Translator::instance(const KeepalivedNode& n) {
  const std::string iname = n.words.size() > 1 ? n.words[1] : "";
  result_.instance = iname;
  const std::string name = sanitize_name(iname, /*allow_dot=*/true);
  instance_.set("name", name);
  if (name != iname) {
    note(instance_, n, "vrrp_instance " + for_comment(iname) + ": renamed " + name +
                           " (1..32 of A-Z a-z 0-9 _ . -)");
  }

  // Interface first: virtual IPs compare their `dev` with it.
  for (const auto& c : n.children) {
    if (c.words[0] == "interface" && c.words.size() > 1) interface_ = c.words[1];
  }
  if (interface_.empty()) {
    fixme(instance_, n, "vrrp_instance " + iname + " names no interface: set interface");
  } else if (!valid_interface_name(interface_)) {
    // keepalived refuses the instance too: the kernel has no such interface name.
    fixme(instance_, n, "interface " + interface_ + " is not an interface name (1..15 "
                        "characters, no '/', ':' or blanks): set interface");
  } else {
    key(instance_, n, "interface", interface_);
  }

  std::optional<std::string> state;
  const KeepalivedNode* state_node = nullptr;
  std::optional<int> priority;
  Duration advert = 1s;
  int version = global_version_;
  const KeepalivedNode* version_node = global_version_node_;
  bool preempt = true;
  std::optional<Duration> preempt_delay;
  std::optional<int> vrid;
  const KeepalivedNode* vrid_node = nullptr;
  bool priority_given = false;
  std::optional<Duration> advert_raw;
  const KeepalivedNode* advert_node = nullptr;
  const KeepalivedNode* nopreempt_node = nullptr;
  bool checksum_as_v2 = global_checksum_as_v2_;
  const KeepalivedNode* mcast_dst = nullptr;
  bool check_unicast_src = false;

  for (const auto& c : n.children) {
    const std::string& k = c.words[0];
    const std::string arg = c.words.size() > 1 ? c.words[1] : "";
    if (k == "interface") {
      // read above
    } else if (k == "state") {
      state = arg;
      state_node = &c;
    } else if (k == "virtual_router_id") {
      vrid_node = &c;
      vrid = parse_int(arg, 1, 255);
    } else if (k == "priority") {
      // keepalived: an invalid priority is 100 (vrrp_prio_handler), and any priority line,
      // valid or not, stops state MASTER from making the instance the owner (255).
      priority_given = true;
      priority = parse_int(arg, 1, 255);
      if (!priority) {
        priority = 100;
        note(vrrp_, c, show(c) + ": not 1..255; keepalived uses 100, so does this file");
        warn(c, "priority " + for_comment(arg) + " is not 1..255: keepalived uses 100");
      }
    } else if (k == "advert_int") {
      // keepalived (vrrp_adv_handler) ignores a value outside 0.01..255 s and keeps 1s.
      auto d = parse_seconds(arg, 255);
      if (!d || *d < 10ms || *d > 255s) {
        note(vrrp_, c, show(c) + ": not 0.01..255 seconds; keepalived ignores it and uses 1s");
        warn(c, "advert_int " + for_comment(arg) + " is invalid; keepalived uses 1s");
        continue;
      }
      advert_raw = *d;
      advert_node = &c;
    } else if (k == "version") {
      if (auto v = parse_int(arg, 2, 3)) {
        version = *v;
        version_node = &c;
      }
    } else if (k == "nopreempt") {
      preempt = false;
      nopreempt_node = &c;
    } else if (k == "preempt") {
      preempt = true;
    } else if (k == "preempt_delay") {
      auto d = parse_seconds(arg, 3600);
      if (d) {
        preempt_delay = *d;
      } else {
        note(vrrp_, c, show(c) + ": not a number of seconds up to 1h; not mapped");
        warn(c, "preempt_delay " + for_comment(arg) + " is invalid; not mapped");
      }
    } else if (k == "unicast_src_ip" || k == "mcast_src_ip") {
      if (util::Ipv4::parse(strip_mask(arg))) {
        source_ = strip_mask(arg);
      } else {
        note(vrrp_, c, show(c) + ": not an IPv4 address (failoverd is IPv4 only); not mapped");
        warn(c, k + " " + for_comment(arg) + " is not mapped (not an IPv4 address)");
      }
    } else if (k == "unicast_peer") {
      unicast_peers(c);
    } else if (k == "check_unicast_src") {
      check_unicast_src = true;
      note(vrrp_, c, show(c) + ": as failoverd, which hears adverts only from its peers");
    } else if (k == "mcast_dst_ip") {
      mcast_dst = &c;
    } else if (k == "virtual_ipaddress" || k == "virtual_ipaddress_excluded") {
      virtual_ips(c, k == "virtual_ipaddress_excluded");
    } else if (k == "track_interface") {
      track_interfaces(c);
    } else if (k == "track_script") {
      track_scripts(c);
    } else if (k == "notify_master") {
      notify_hook(c, "master");
    } else if (k == "notify_backup") {
      notify_hook(c, "backup");
    } else if (k == "notify_fault") {
      notify_hook(c, "fault");
    } else if (k == "notify_stop") {
      notify_hook(c, "stop");
    } else if (k == "notify") {
      // A hook that silently stops running is the failure this importer must not cause.
      note(notify_, c, show(c) + ": not mapped: failoverd has no catch-all hook, and keepalived "
                       "passes TYPE NAME STATE PRIORITY where failoverd passes INSTANCE STATE "
                       "PRIORITY; set master, backup, fault and stop");
      fixme(notify_, c, "the generic notify script would not run: set [notify] master, backup, "
                        "fault and stop (to a wrapper that passes keepalived's arguments)");
    } else if (k == "authentication" || k == "auth_hmac") {
      note(vrrp_, c, k + ": not mapped: a keepalived peer that enforces it drops failoverd's "
                         "adverts, so a mixed pair cannot work; between failoverd nodes use "
                         "transport = udp with auth_key_file");
      warn(c, k + ": a keepalived peer enforcing it drops failoverd's adverts (a mixed pair "
              "cannot work); between failoverd nodes use transport = udp");
    } else if (k == "v3_checksum_as_v2") {
      checksum_as_v2 = c.words.size() < 2 || parse_bool(arg).value_or(true);
    } else if (k.rfind("garp_", 0) == 0 || k == "vmac_garp_intvl") {
      note(vip_, c, show(c) + ": not mapped: " + kGarpDifference);
    } else if (k == "use_vmac" || k == "use_vmac_addr" || k == "use_ipvlan") {
      // Neighbours keep the virtual MAC across a failover in keepalived; with failoverd they
      // must learn the new MASTER's MAC, which a static ARP entry, MAC-based port security or
      // a router that ignores gratuitous ARP never does: the address would not move for them.
      fixme(vrrp_, c, k + ": keepalived answers for the virtual IPs from a virtual MAC (macvlan) "
                      "that moves with them; failoverd answers from the interface's own MAC and "
                      "announces it by gratuitous ARP: delete this line if no neighbour pins "
                      "the virtual MAC");
    } else if (k == "vmac_xmit_base") {
      note(vrrp_, c, show(c) + ": not mapped: it only changes where use_vmac sends adverts; "
                     "failoverd sends them from interface");
    } else if (k == "virtual_routes" || k == "virtual_rules") {
      // The MASTER would lack routes it had under keepalived.
      if (c.children.empty()) {
        note(vip_, c, k + ": empty; nothing to map");
      } else {
        fixme(vip_, c, k + ": failoverd does not add routes or rules: add them from a [notify] "
                       "master hook (and remove them in backup/fault/stop)");
      }
    } else if (k == "track_file" || k == "track_process" || k == "track_bfd") {
      // What it tracks would no longer lower the priority or cause FAULT.
      fixme(vrrp_, c, k + ": not mapped: write an exec [check.NAME] that tests the same thing, "
                      "then delete this line");
    } else if (k == "dont_track_primary") {
      fixme(instance_, c, "dont_track_primary: keepalived ignores the link state of interface; "
                          "failoverd goes to FAULT when it is down: delete this line to accept "
                          "that");
    } else if (k == "vrf") {
      fixme(instance_, c, "vrf " + for_comment(arg) + ": failoverd does not bind its sockets to a "
                          "VRF: run it in the VRF (ip vrf exec) and delete this line");
    } else if (k == "native_ipv6") {
      fixme(vrrp_, c, "native_ipv6: an IPv6 instance; failoverd is IPv4 only");
    } else if (k == "no_accept" || k == "strict_mode") {
      fixme(vip_, c, k + ": keepalived drops traffic to the virtual IPs on a MASTER that is "
                     "not the owner; failoverd accepts it: delete this line to accept it");
    } else if (k == "down_timer_adverts") {
      // Master_Down_Interval is 3 intervals + skew in failoverd (RFC 5798), as by default here.
      if (arg != "3") {
        fixme(vrrp_, c, "down_timer_adverts " + for_comment(arg) + ": failoverd waits 3 "
                        "adverts (plus Skew_Time) before taking over: delete this line to "
                        "accept that");
      } else {
        note(vrrp_, c, show(c) + ": 3 adverts, as failoverd");
      }
    } else if (k == "unicast_ttl") {
      // vrrp.c sends unicast adverts with this TTL; failoverd (RFC 5798 section 5.1.1.3) sends
      // 255 and drops any other, so a peer a router away would never be heard.
      if (arg == "255") {
        note(vrrp_, c, show(c) + ": as failoverd");
      } else {
        fixme(vrrp_, c, "unicast_ttl " + for_comment(arg) + ": failoverd takes adverts with "
                        "TTL 255 only: delete this line if the peers share a link, else use "
                        "the udp transport between failoverd nodes");
      }
    } else if (k == "smtp_alert") {
      // An operator who relied on the mail would lose it without a word.
      note(notify_, c, show(c) + ": not mapped: failoverd sends no mail");
      warn(c, "smtp_alert: failoverd sends no mail; a [notify] hook can send it");
    } else if (k == "lvs_sync_daemon_interface") {
      fixme(vrrp_, c, "lvs_sync_daemon_interface: keepalived runs the IPVS sync daemon on the "
                      "MASTER; failoverd does not: start it from [notify] hooks, then delete "
                      "this line");
    } else if (k == "notify_master_rx_lower_pri" || k == "notify_deleted") {
      fixme(notify_, c, k + ": failoverd has no such hook, so the script would not run: "
                        "delete this line once it is not needed");
    } else if (!k.empty() && k[0] == '@') {
      // Conditionals at the start of a line are resolved by parse_keepalived; one after a
      // brace on the same line is not.
      fixme(vrrp_, c, "conditional " + k + " after a brace is not evaluated: put it on a line "
                      "of its own");
    } else {
      note(vrrp_, c, show(c) + ": not mapped");
    }
  }

  if (advert_raw) {
    // vrrp.c rounds the interval as the version carries it: VRRPv2 whole seconds (1..255),
    // VRRPv3 centiseconds (10ms..40.95s), half up.
    const Duration unit = version == 2 ? Duration(1s) : Duration(10ms);
    Duration rounded = (*advert_raw + unit / 2) / unit * unit;
    rounded = std::clamp<Duration>(rounded, unit, version == 2 ? Duration(255s) : 40950ms);
    if (rounded != *advert_raw) {
      note(vrrp_, *advert_node, show(*advert_node) + ": VRRPv" + std::to_string(version) +
                                    " sends " + (version == 2 ? "whole seconds" : "centiseconds "
                                    "up to 40.95s") + "; keepalived uses " +
                                    util::format_duration(rounded));
      warn(*advert_node, show(*advert_node) + " is " + util::format_duration(rounded) +
                             " in keepalived and here");
    }
    if (rounded > 40950ms) {
      fixme(vrrp_, *advert_node, "advert_int above 40.95s: failoverd (VRRPv3) cannot send it");
      rounded = 40950ms;
    }
    advert = rounded;
  }
  // [vrrp]
  if (vrid) {
    vrrp_.set("virtual_router_id", std::to_string(*vrid));
  } else if (vrid_node != nullptr) {
    // keepalived refuses the value and then the instance (no VRID).
    fixme(vrrp_, *vrid_node, "virtual_router_id " + (vrid_node->words.size() > 1
                                                         ? vrid_node->words[1]
                                                         : std::string()) +
                                 " is not 1..255: set virtual_router_id");
  } else {
    fixme(vrrp_, n, "vrrp_instance " + iname + " has no virtual_router_id: set it");
  }
  const bool state_master = state && util::lower(*state) == "master";
  int prio = priority.value_or(100);
  if (!priority_given && state_master) {
    prio = 255;
    note(vrrp_, *state_node, "no priority with state MASTER: keepalived uses 255 (the address "
                             "owner), so does this file");
  }
  vrrp_.set("priority", std::to_string(prio));
  vrrp_.set("advert_interval", util::format_duration(advert));
  if (state) {
    const Duration down = 3 * advert + (256 - prio) * advert / 256;
    if (!state_master && util::lower(*state) != "backup") {
      note(vrrp_, *state_node, show(*state_node) + ": not MASTER or BACKUP; ignored");
    } else if (prio == 255) {
      note(vrrp_, *state_node, show(*state_node) + ": failoverd has no initial state; with "
                               "priority 255 it becomes MASTER at start");
    } else {
      note(vrrp_, *state_node, show(*state_node) + ": failoverd has no initial state; it starts "
                               "as BACKUP and becomes MASTER when no higher priority is heard "
                               "for Master_Down_Interval (" + human(down) + " here)");
    }
  }
  if ((state_master || prio == 255) && (!preempt || preempt_delay)) {
    // vrrp.c (vrrp_complete_instance): nopreempt and preempt_delay are cleared for the address
    // owner and for an initial state MASTER.
    const KeepalivedNode& where = nopreempt_node != nullptr ? *nopreempt_node : n;
    note(vrrp_, where, "nopreempt / preempt_delay with " +
                           std::string(prio == 255 ? "priority 255" : "state MASTER") +
                           ": keepalived clears them and preempts, so does this file");
    warn(where, "nopreempt / preempt_delay are ignored by keepalived with state MASTER or "
                "priority 255: preempt = true here");
    preempt = true;
    preempt_delay.reset();
  }
  vrrp_.set("preempt", preempt ? "true" : "false");
  if (preempt_delay) {
    vrrp_.set("preempt_delay", util::format_duration(*preempt_delay));
  }
  if (source_) {
    // failoverd refuses a peer equal to the source; keepalived configs copied between nodes
    // sometimes list both addresses.
    const auto src = util::Ipv4::parse(*source_);
    const auto self = std::find(peers_.begin(), peers_.end(), *src);
    if (self != peers_.end()) {
      vrrp_.note("keepalived: unicast_peer " + *source_ + " is this host's "
                            "unicast_src_ip; left out");
      peers_.erase(self);
    }
    vrrp_.set("source", *source_);
  }
  for (const auto& p : peers_) vrrp_.set("peer", p.to_string());
  if (!peers_.empty() && !check_unicast_src) {
    // keepalived's default hears a unicast advert from any source; a peer sending from an
    // address not listed would go unheard here and both nodes would become MASTER.
    vrrp_.note("keepalived: failoverd hears adverts only from the peer addresses (keepalived's "
               "check_unicast_src); keepalived without it heard any source: each peer must send "
               "from the address listed (its unicast_src_ip)");
  }
  if (mcast_dst != nullptr && peers_.empty()) {
    // Adverts to another group are not heard by peers listening on 224.0.0.18.
    note(vrrp_, *mcast_dst, show(*mcast_dst) + ": failoverd multicasts to 224.0.0.18 only");
    fixme(vrrp_, *mcast_dst, "mcast_dst_ip: failoverd multicasts to 224.0.0.18 only: use peer "
                             "lines (unicast) or move every node to 224.0.0.18");
  } else if (mcast_dst != nullptr) {
    note(vrrp_, *mcast_dst, show(*mcast_dst) + ": not used: the instance has unicast peers");
  } else if (peers_.empty() && global_mcast_group_ != nullptr &&
             (global_mcast_group_->words.size() < 2 ||
              global_mcast_group_->words[1] != "224.0.0.18")) {
    fixme(vrrp_, *global_mcast_group_, "vrrp_mcast_group4: failoverd multicasts to 224.0.0.18 "
                                       "only: use peer lines (unicast) or move every node to "
                                       "224.0.0.18");
  } else if (peers_.empty()) {
    vrrp_.note("no unicast_peer: adverts go to multicast 224.0.0.18, as in "
                          "keepalived");
  }
  if (checksum_as_v2) vrrp_.set("checksum_pseudo_header", "false");
  if (version == 2) {
    const std::string where = version_node ? at(*version_node) : at(n);
    vrrp_.note("keepalived " + where + ": VRRP version 2" +
                          (version_node ? "" : " (keepalived's default)") +
                          ". failoverd speaks VRRPv3 only: it cannot pair with this keepalived; "
                          "see docs/migrating-from-keepalived.md");
    result_.warnings.push_back(where + ": keepalived runs VRRPv2 here; failoverd speaks VRRPv3 "
                               "only, so a failoverd node and this keepalived node cannot pair: "
                               "set vrrp_version 3 on the keepalived nodes first, or cut over "
                               "both together");
  }

  // [check.NAME]: the tracked vrrp_scripts, in track_script order.
  for (const auto& t : tracked_) check(t);

  if (vips_.empty()) {
    vip_.note("no IPv4 virtual_ipaddress: failoverd adds no address (a [reserved_ip] "
                         "section can move a cloud address instead)");
  }
  if (notify_.has_keys()) {
    notify_.note("failoverd runs each hook with argv INSTANCE STATE PRIORITY "
                            "(keepalived's notify_* scripts got none)");
  }
}

util::Expected<std::string, std::string> Translator::render() {
  IniSection head("");
  head.note("failoverd configuration written by failoverctl import-keepalived.");
  head.note("From: " + for_comment(options_.source_name) + ", vrrp_instance " +
                for_comment(result_.instance) + ".",
            "# ", "# ");
  head.note("Review every \"keepalived\" comment: each names an option that is mapped "
            "differently or");
  head.note("not at all. Validate with: failoverd --check-config FILE");
  if (!result_.other_instances.empty()) {
    std::string names;
    for (const auto& o : result_.other_instances) names += (names.empty() ? "" : ", ") + o;
    head.note("", "#");
    head.note("failoverd runs one instance per file; not translated here: " + for_comment(names) +
                  ".",
              "# ", "# ");
    head.note("Translate each: failoverctl import-keepalived --vrrp-instance NAME FILE > "
              "/etc/failoverd/NAME.conf",
              "# ", "# ");
  }
  if (!top_notes_.empty()) {
    head.note("", "#");
    head.note("keepalived options outside this vrrp_instance:");
    for (const auto& t : top_notes_) head.note(t, "#   ", "#     ");
  }
  for (const auto& f : top_fixmes_) head.fixme(f);
  std::vector<const IniSection*> sections = {&head, &instance_, &vrrp_};
  for (const auto& c : checks_) sections.push_back(&c);
  for (const IniSection* s : {&vip_, &notify_}) {
    if (!s->empty()) sections.push_back(s);
  }
  return render_ini(sections);
}

util::Expected<ImportResult, ImportError> Translator::run() {
  scan_top_level();
  if (virtual_servers_ > 0) {
    const KeepalivedNode anchor{{"virtual_server"}, first_virtual_server_line_, false, {}};
    top_note(anchor, "virtual_server (" + std::to_string(virtual_servers_) +
                         " LVS blocks): not mapped: failoverd does not do load balancing");
    // Without keepalived the host stops balancing: the user must keep it elsewhere.
    top_fixme(anchor, "virtual_server: failoverd does not do load balancing (IPVS): keep it "
                      "in keepalived run with --check only, or in ipvsadm, then delete this "
                      "line");
  }
  if (instances_.empty()) {
    return util::unexpected(ImportError{0, "no vrrp_instance block: nothing to translate"});
  }
  const KeepalivedNode* chosen = instances_.front();
  if (options_.vrrp_instance) {
    chosen = nullptr;
    for (const auto* i : instances_) {
      if (i->words.size() > 1 && i->words[1] == *options_.vrrp_instance) chosen = i;
      if (chosen != nullptr) break;
    }
    if (chosen == nullptr) {
      std::string names;
      for (const auto* i : instances_) {
        names += (names.empty() ? "" : ", ") + (i->words.size() > 1 ? i->words[1] : "(unnamed)");
      }
      return util::unexpected(ImportError{0, "no vrrp_instance " +
                                                 for_comment(*options_.vrrp_instance) +
                                                 " (there are: " + for_comment(names) + ")"});
    }
  }
  for (const auto* i : instances_) {
    if (i != chosen) result_.other_instances.push_back(i->words.size() > 1 ? i->words[1] : "");
  }
  if (!result_.other_instances.empty()) {
    std::string names;
    for (const auto& o : result_.other_instances) names += (names.empty() ? "" : ", ") + o;
    result_.warnings.push_back("only vrrp_instance " + for_comment(chosen->words.size() > 1
                                                                        ? chosen->words[1]
                                                                        : "") +
                               " is translated; failoverd runs one instance per file: for " +
                               for_comment(names) + " run import-keepalived --vrrp-instance NAME");
  }
  sync_groups(chosen->words[1]);
  // Warnings in file order: the scan above saw every top-level statement first.
  instance(*chosen);
  auto text = render();
  if (!text) {
    // A bug in this file, not in the input: refuse rather than write an unknown key.
    return util::unexpected(ImportError{0, "internal error: " + text.error()});
  }
  result_.config = std::move(*text);
  return std::move(result_);
}

}  // namespace

util::Expected<ImportResult, ImportError> import_keepalived(std::string_view text,
                                                            const ImportOptions& options) {
  auto tree = parse_keepalived(text, options.host);
  if (!tree) return util::unexpected(tree.error());
  Translator t(*tree, options);
  return t.run();
}

}  // namespace failoverd::importer