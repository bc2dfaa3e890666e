#include "failoverd/control/keepalived_import.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <utility>

#include "failoverd/util/duration.h"
#include "failoverd/util/ipv4.h"

namespace failoverd::control {

std::string ImportError::to_string() const {
  if (line == 0) return message;
  return "line " + std::to_string(line) + ": " + message;
}

namespace {

using util::Duration;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------
// Lexing: keepalived's words, quotes and escapes.

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One escape inside quotes, `s[i]` being the character after the backslash; advances `i` past
// it. keepalived's list: \a \b \E \f \n \r \t \v, \nnn octal, \xXX hex, \cC control; any other
// \C is C.
char unescape(std::string_view s, std::size_t& i) {
  const char c = s[i++];
  switch (c) {
    case 'a': return '\a';
    case 'b': return '\b';
    case 'E': return '\x1b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'v': return '\v';
    case 'x': {
      int value = 0;
      int digits = 0;
      for (; digits < 2 && i < s.size() && hex_value(s[i]) >= 0; ++digits) {
        value = value * 16 + hex_value(s[i++]);
      }
      return digits == 0 ? 'x' : static_cast<char>(value);
    }
    case 'c':
      if (i < s.size()) return static_cast<char>(s[i++] & 0x1f);
      return 'c';
    default: break;
  }
  if (c >= '0' && c <= '7') {
    int value = c - '0';
    for (int digits = 1; digits < 3 && i < s.size() && s[i] >= '0' && s[i] <= '7'; ++digits) {
      value = value * 8 + (s[i++] - '0');
    }
    return static_cast<char>(value & 0xff);
  }
  return c;
}

struct Token {
  std::string text;
  char brace = 0;  // '{' or '}' for a structural brace, else 0
};

// Splits one line into tokens. `structural`: comments (# !) end the line and braces are tokens
// of their own (the config syntax); otherwise only blanks separate (a script string). Returns
// false on an unterminated quote.
bool lex_line(std::string_view line, bool structural, std::vector<Token>& out) {
  std::string word;
  bool in_word = false;
  std::size_t i = 0;
  const auto finish = [&] {
    if (in_word) out.push_back({std::move(word), 0});
    word.clear();
    in_word = false;
  };
  while (i < line.size()) {
    const char c = line[i];
    if (is_blank(c) || c == '\n') {
      finish();
      ++i;
    } else if (structural && (c == '#' || c == '!')) {
      break;
    } else if (structural && (c == '{' || c == '}')) {
      finish();
      out.push_back({std::string(1, c), c});
      ++i;
    } else if (c == '"' || c == '\'') {
      const char quote = c;
      in_word = true;
      ++i;
      bool closed = false;
      while (i < line.size()) {
        const char q = line[i];
        if (q == quote) {
          closed = true;
          ++i;
          break;
        }
        if (q == '\\' && i + 1 < line.size()) {
          ++i;
          word += unescape(line, i);
        } else {
          word += q;
          ++i;
        }
      }
      if (!closed) return false;
    } else {
      word += c;
      in_word = true;
      ++i;
    }
  }
  finish();
  return true;
}

// ---------------------------------------------------------------------------------------------
// Output helpers.

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

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

// Whether `v` can be an INI value: failoverd's parser trims values and cuts at '#'.
bool representable(std::string_view v) {
  if (v.empty() || v.front() == ' ' || v.back() == ' ') return false;
  return std::all_of(v.begin(), v.end(), [](char c) { return printable(c) && c != '#'; });
}

// argv as failoverd's exec command: split on blanks, double quotes group (and cannot be
// escaped); nullopt when some argument cannot be written that way.
std::optional<std::string> render_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (a.find('"') != std::string::npos) return std::nullopt;
    if (!std::all_of(a.begin(), a.end(), [](char c) { return printable(c) && c != '#'; })) {
      return std::nullopt;
    }
    if (!out.empty()) out += ' ';
    out += (a.empty() || a.find(' ') != std::string::npos) ? "\"" + a + "\"" : a;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// A name made of `allowed` characters (others become '_'), at most 32 long.
std::string sanitize_name(std::string_view s, bool allow_dot) {
  std::string out;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || (allow_dot && c == '.');
    out += ok ? c : '_';
    if (out.size() == 32) break;
  }
  if (out.empty() || out == "." || out == "..") out = "keepalived";
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
  const std::string l = lower(s);
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

// One section of the output: notes (comment lines) first, then its keys.
struct Section {
  std::string name;
  std::vector<std::string> notes;
  std::vector<std::string> keys;
};

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
  static void note(Section& s, const KeepalivedNode& n, const std::string& text) {
    s.notes.push_back("keepalived " + at(n) + ": " + text);
  }
  // Adds `key = value`, or, when failoverd's syntax cannot hold the value, a FIXME note.
  void key(Section& s, const KeepalivedNode& n, const std::string& k, const std::string& v) {
    if (representable(v)) {
      s.keys.push_back(k + " = " + v);
      return;
    }
    note(s, n, "FIXME: " + k + " cannot be written in failoverd's syntax (no '#', control "
                   "characters or surrounding blanks): \"" + for_comment(v) + "\"");
    warn(n, "the value of " + k + " cannot be written in failoverd's syntax; set it by hand");
  }

  void scan_top_level();
  void global_defs(const KeepalivedNode& n);
  void instance(const KeepalivedNode& n);
  void unicast_peers(const KeepalivedNode& n);
  void virtual_ips(const KeepalivedNode& n, bool excluded);
  void track_interfaces(const KeepalivedNode& n);
  void track_scripts(const KeepalivedNode& n);
  void notify_hook(const KeepalivedNode& n, const std::string& key);
  void check(const TrackedScript& t);
  std::string render();

  const std::vector<KeepalivedNode>& tree_;
  const ImportOptions& options_;
  ImportResult result_;

  std::vector<std::string> top_notes_;
  std::vector<const KeepalivedNode*> instances_;
  std::map<std::string, const KeepalivedNode*> scripts_;
  std::size_t virtual_servers_ = 0;
  std::size_t first_virtual_server_line_ = 0;

  // From global_defs.
  int global_version_ = 2;
  const KeepalivedNode* global_version_node_ = nullptr;
  std::optional<std::string> script_user_;
  bool global_checksum_as_v2_ = false;

  // The translated instance.
  Section instance_{"instance", {}, {}};
  Section vrrp_{"vrrp", {}, {}};
  std::vector<Section> checks_;
  Section vip_{"virtual_ip", {}, {}};
  Section notify_{"notify", {}, {}};
  std::string interface_;
  std::optional<std::string> source_;
  std::vector<util::Ipv4> peers_;
  std::vector<util::Ipv4> vips_;
  std::set<std::string> check_names_;
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
      instances_.push_back(&n);
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
      top_note(n, show(n) + ": not mapped: failoverd instances are independent (one per "
                  "file); there are no sync groups");
    } else if (!k.empty() && k[0] == '@') {
      top_note(n, show(n) + ": conditional configuration is not evaluated; skipped");
      warn(n, "conditional line (@...) skipped: edit the output for this host");
    } else if (!k.empty() && k[0] == '$') {
      top_note(n, show(n) + ": parameter definitions are not substituted");
      warn(n, "parameter substitution ($NAME) is not supported: words using it are copied as "
              "they are");
    } else if (k == "static_ipaddress" || k == "static_routes" || k == "static_rules") {
      top_note(n, k + ": not mapped: failoverd manages only the virtual IPs of [virtual_ip]");
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
    } else if (k == "enable_script_security") {
      top_note(c, k + ": not needed: failoverd always refuses hook scripts that others can "
                  "modify");
    } else if (k == "router_id") {
      top_note(c, show(c) + ": not mapped: [instance] name identifies the instance in logs");
    } else if (k.rfind("notification_email", 0) == 0 || k.rfind("smtp_", 0) == 0) {
      top_note(c, show(c) + ": not mapped: failoverd sends no mail (use a [notify] hook)");
    } else if (k.rfind("vrrp_garp_", 0) == 0 || k.rfind("vrrp_gna_", 0) == 0 ||
               k == "vrrp_min_garp") {
      top_note(c, show(c) + ": not mapped: failoverd sends its own gratuitous ARPs on "
                  "becoming MASTER");
    } else {
      top_note(c, "global_defs " + show(c) + ": not mapped");
    }
  }
}

void Translator::unicast_peers(const KeepalivedNode& n) {
  for (const auto& c : n.children) {
    const std::string& text = c.words[0];
    const auto a = util::Ipv4::parse(text);
    if (!a) {
      note(vrrp_, c, "unicast_peer " + for_comment(text) + ": not an IPv4 address; failoverd "
                     "is IPv4 only, not mapped");
      warn(c, "unicast_peer " + for_comment(text) + " is not mapped (not an IPv4 address)");
      continue;
    }
    if (c.words.size() > 1) {
      note(vrrp_, c, show(c) + ": the peer is mapped, its options are not (failoverd accepts "
                     "adverts from any source with TTL 255)");
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
      note(vip_, c, for_comment(text) + ": not an IPv4 address (failoverd is IPv4 only); not "
                    "mapped");
      warn(c, "virtual IP " + for_comment(text) + " is not mapped (not an IPv4 address)");
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
          note(vip_, c, text + " dev " + for_comment(dev) + ": failoverd adds virtual IPs to "
                        "[instance] interface " + interface_ + " only");
          warn(c, "virtual IP " + text + " was on " + for_comment(dev) +
                      "; failoverd adds it to " + interface_);
        }
        continue;
      }
      unmapped.push_back(c.words[i]);
    }
    if (!unmapped.empty()) {
      std::string list;
      for (const auto& u : unmapped) list += (list.empty() ? "" : " ") + u;
      note(vip_, c, text + ": options not mapped (failoverd adds a plain address): " +
                        for_comment(list));
    }
    if (std::find(vips_.begin(), vips_.end(), *a) != vips_.end()) {
      note(vip_, c, addr_text + " is listed twice; kept once");
      continue;
    }
    vips_.push_back(*a);
    key(vip_, c, "address", a->to_string() + "/" + std::to_string(prefix));
  }
}

void Translator::track_interfaces(const KeepalivedNode& n) {
  for (const auto& c : n.children) {
    key(instance_, c, "track_interface", c.words[0]);
    if (c.words.size() > 1) {
      note(instance_, c, show(c) + ": the weight is not mapped: a tracked interface going "
                         "down puts failoverd in FAULT");
      warn(c, "track_interface " + for_comment(c.words[0]) + ": weight not mapped (link down "
              "means FAULT)");
    }
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
    note(notify_, n, "FIXME: " + show(n) + ": failoverd needs an absolute path for " + k);
    warn(n, n.words[0] + ": " + for_comment(argv[0]) + " is not an absolute path; set [notify] " +
                k + " by hand");
    return;
  }
  key(notify_, n, k, argv[0]);
  if (argv.size() > 1) {
    std::string args;
    for (std::size_t i = 1; i < argv.size(); ++i) args += " " + argv[i];
    note(notify_, n, n.words[0] + " passed the arguments" + for_comment(args) + "; failoverd "
                     "runs " + argv[0] + " with INSTANCE STATE PRIORITY instead: use a wrapper "
                     "script that adds them");
    warn(n, n.words[0] + ": the script's arguments are not mapped (failoverd passes INSTANCE "
            "STATE PRIORITY)");
  }
  if (n.words.size() > 2) {
    note(notify_, n, n.words[0] + ": the user/group " + for_comment(n.words[2]) +
                         " is not mapped: hooks run as failoverd's user");
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
  Section sec{"check." + name, {}, {}};
  note(sec, s, "vrrp_script " + for_comment(t.name) + (name != t.name ? " (renamed: failoverd "
                                                                        "check names are 1..32 "
                                                                        "of A-Z a-z 0-9 _ -)"
                                                                      : ""));
  sec.keys.push_back("type = exec");
  if (script == nullptr || script->words.size() < 2 ||
      split_keepalived_command(script->words[1]).empty()) {
    note(sec, s, "FIXME: the vrrp_script has no script (keepalived drops such a script); set "
                 "command");
    warn(s, "vrrp_script " + for_comment(t.name) + " has no script: set [" + sec.name +
                "] command by hand");
  } else {
    const auto argv = split_keepalived_command(script->words[1]);
    if (auto cmd = render_command(argv)) {
      sec.keys.push_back("command = " + *cmd);
    } else {
      note(sec, *script, "FIXME: " + show(*script) + " cannot be written as a failoverd "
                         "command (an argument holds '\"', '#' or a control character): put "
                         "it in a script file and set command to its path");
      warn(*script, "the script of vrrp_script " + for_comment(t.name) + " cannot be written "
                    "as a failoverd command; set [" + sec.name + "] command by hand");
    }
    if (script->words.size() > 2) {
      note(sec, *script, "words after the quoted script are ignored by keepalived and here: " +
                             show(*script));
    }
    const std::string joined = lower(script->words[1]);
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
  }
  sec.keys.push_back("interval = " + util::format_duration(interval));
  sec.keys.push_back("timeout = " + util::format_duration(failoverd_timeout));
  const auto bounded = [&](const char* k, int v) {
    if (v > 100) {
      note(sec, s, std::string(k) + " " + std::to_string(v) + " is above failoverd's 100; 100");
      v = 100;
    }
    sec.keys.push_back(std::string(k) + " = " + std::to_string(v));
  };
  bounded("rise", rise);
  bounded("fall", fall);
  sec.keys.push_back("weight = " + std::to_string(weight));
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
    note(sec, s, "FIXME: weight ... reverse is not supported: failoverd applies the weight in "
                 "the normal direction");
    warn(s, "vrrp_script " + for_comment(t.name) + ": weight reverse is not supported");
  }
  if (user) {
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
  instance_.keys.push_back("name = " + name);
  if (name != iname) {
    note(instance_, n, "vrrp_instance " + for_comment(iname) + ": renamed " + name +
                           " (1..32 of A-Z a-z 0-9 _ . -)");
  }

  // Interface first: virtual IPs compare their `dev` with it.
  for (const auto& c : n.children) {
    if (c.words[0] == "interface" && c.words.size() > 1) interface_ = c.words[1];
  }
  if (interface_.empty()) {
    instance_.notes.push_back("FIXME: keepalived.conf names no interface for this instance: set "
                              "interface");
    warn(n, "vrrp_instance " + for_comment(iname) + " has no interface: set [instance] "
            "interface");
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
  std::optional<std::string> vrid;
  bool checksum_as_v2 = global_checksum_as_v2_;
  const KeepalivedNode* mcast_dst = nullptr;

  for (const auto& c : n.children) {
    const std::string& k = c.words[0];
    const std::string arg = c.words.size() > 1 ? c.words[1] : "";
    if (k == "interface") {
      // read above
    } else if (k == "state") {
      state = arg;
      state_node = &c;
    } else if (k == "virtual_router_id") {
      vrid = arg;
      if (!parse_int(arg, 1, 255)) warn(c, "virtual_router_id " + for_comment(arg) +
                                               " is not 1..255");
    } else if (k == "priority") {
      priority = parse_int(arg, 1, 255);
      if (!priority) {
        note(vrrp_, c, show(c) + ": not 1..255; ignored");
        warn(c, "priority " + for_comment(arg) + " is not 1..255; ignored");
      }
    } else if (k == "advert_int") {
      auto d = parse_seconds(arg, 255);
      if (!d || d->count() == 0) {
        note(vrrp_, c, show(c) + ": not a number of seconds; the default 1s is used");
        warn(c, "advert_int " + for_comment(arg) + " is invalid; using 1s");
        continue;
      }
      // VRRPv3 carries the interval in centiseconds, 10ms..40.95s.
      Duration rounded((d->count() + 5'000) / 10'000 * 10'000);
      rounded = std::clamp<Duration>(rounded, 10ms, 40950ms);
      if (rounded != *d) {
        note(vrrp_, c, "advert_int " + arg + ": VRRPv3 sends centiseconds from 10ms to 40.95s; " +
                           util::format_duration(rounded));
        warn(c, "advert_int " + for_comment(arg) + " is " + util::format_duration(rounded) +
                    " in failoverd");
      }
      advert = rounded;
    } else if (k == "version") {
      if (auto v = parse_int(arg, 2, 3)) {
        version = *v;
        version_node = &c;
      }
    } else if (k == "nopreempt") {
      preempt = false;
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
      if (util::Ipv4::parse(arg)) {
        source_ = arg;
      } else {
        note(vrrp_, c, show(c) + ": not an IPv4 address (failoverd is IPv4 only); not mapped");
        warn(c, k + " " + for_comment(arg) + " is not mapped (not an IPv4 address)");
      }
    } else if (k == "unicast_peer") {
      unicast_peers(c);
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
      note(notify_, c, show(c) + ": not mapped: failoverd has no catch-all hook, and keepalived "
                       "passes TYPE NAME STATE PRIORITY where failoverd passes INSTANCE STATE "
                       "PRIORITY; set master, backup, fault and stop");
      warn(c, "the generic notify script is not mapped: set [notify] master/backup/fault/stop");
    } else if (k == "authentication") {
      note(vrrp_, c, "authentication: not mapped: VRRPv3 has no authentication. failoverd's "
                     "transport = udp with auth_key_file authenticates adverts between "
                     "failoverd nodes");
    } else if (k == "v3_checksum_as_v2") {
      checksum_as_v2 = c.words.size() < 2 || parse_bool(arg).value_or(true);
    } else if (k.rfind("garp_", 0) == 0 || k == "vmac_garp_intvl") {
      note(vip_, c, show(c) + ": not mapped: failoverd sends its own gratuitous ARPs on "
                    "becoming MASTER");
    } else if (k == "use_vmac" || k == "vmac_xmit_base" || k == "use_vmac_addr" ||
               k == "use_ipvlan") {
      note(vrrp_, c, show(c) + ": not mapped: failoverd uses the interface's own MAC address");
      warn(c, k + " is not mapped: failoverd uses the interface's own MAC address");
    } else if (k == "virtual_routes" || k == "virtual_rules") {
      note(vip_, c, k + ": not mapped: add routes or rules from a [notify] master hook");
      warn(c, k + " is not mapped (use a notify hook)");
    } else if (k == "track_file" || k == "track_process" || k == "track_bfd") {
      note(vrrp_, c, k + ": not mapped: write an exec [check.NAME] that tests the same thing");
      warn(c, k + " is not mapped");
    } else if (k == "notify_master_rx_lower_pri" || k == "notify_deleted") {
      note(notify_, c, show(c) + ": not mapped");
    } else if (!k.empty() && k[0] == '@') {
      note(vrrp_, c, show(c) + ": conditional configuration is not evaluated; skipped");
      warn(c, "conditional line (@...) skipped: edit the output for this host");
    } else {
      note(vrrp_, c, show(c) + ": not mapped");
    }
  }

  // [vrrp]
  if (vrid) {
    key(vrrp_, n, "virtual_router_id", *vrid);
  } else {
    vrrp_.notes.push_back("FIXME: keepalived.conf has no virtual_router_id: set it");
    warn(n, "vrrp_instance " + for_comment(iname) + " has no virtual_router_id");
  }
  const bool state_master = state && lower(*state) == "master";
  int prio = priority.value_or(100);
  if (!priority && state_master) {
    prio = 255;
    note(vrrp_, *state_node, "no priority with state MASTER: keepalived uses 255 (the address "
                             "owner), so does this file");
  }
  vrrp_.keys.push_back("priority = " + std::to_string(prio));
  vrrp_.keys.push_back("advert_interval = " + util::format_duration(advert));
  if (state) {
    const Duration down = 3 * advert + (256 - prio) * advert / 256;
    if (!state_master && lower(*state) != "backup") {
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
  vrrp_.keys.push_back(std::string("preempt = ") + (preempt ? "true" : "false"));
  if (preempt_delay) {
    vrrp_.keys.push_back("preempt_delay = " + util::format_duration(*preempt_delay));
  }
  if (source_) {
    // failoverd refuses a peer equal to the source; keepalived configs copied between nodes
    // sometimes list both addresses.
    const auto src = util::Ipv4::parse(*source_);
    const auto self = std::find(peers_.begin(), peers_.end(), *src);
    if (self != peers_.end()) {
      vrrp_.notes.push_back("keepalived: unicast_peer " + *source_ + " is this host's "
                            "unicast_src_ip; left out");
      peers_.erase(self);
    }
    vrrp_.keys.push_back("source = " + *source_);
  }
  for (const auto& p : peers_) vrrp_.keys.push_back("peer = " + p.to_string());
  if (peers_.empty()) {
    vrrp_.notes.push_back("no unicast_peer: adverts go to multicast 224.0.0.18, as in "
                          "keepalived");
  }
  if (mcast_dst != nullptr) {
    note(vrrp_, *mcast_dst, show(*mcast_dst) + ": not mapped: failoverd multicasts to "
                            "224.0.0.18 only");
    warn(*mcast_dst, "mcast_dst_ip is not mapped (failoverd uses 224.0.0.18)");
  }
  if (checksum_as_v2) vrrp_.keys.push_back("checksum_pseudo_header = false");
  if (version == 2) {
    const std::string where = version_node ? at(*version_node) : at(n);
    vrrp_.notes.push_back("keepalived " + where + ": VRRP version 2" +
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
    vip_.notes.push_back("no IPv4 virtual_ipaddress: failoverd adds no address (a [reserved_ip] "
                         "section can move a cloud address instead)");
  }
  if (!notify_.keys.empty()) {
    notify_.notes.push_back("failoverd runs each hook with argv INSTANCE STATE PRIORITY "
                            "(keepalived's notify_* scripts got none)");
  }
}

// `text` as comment lines of at most 100 columns, broken at blanks: "# first", "#   rest".
std::string comment_lines(std::string_view first_prefix, std::string_view raw,
                          std::string_view next_prefix = "#   ") {
  constexpr std::size_t kWidth = 100;
  std::string clean(raw);  // keepalived words may hold any byte; a comment stays one line
  for (char& c : clean) c = printable(c) ? c : '?';
  std::string_view text = clean;
  std::string out;
  std::string_view prefix = first_prefix;
  while (!text.empty()) {
    const std::size_t room = kWidth - prefix.size();
    std::size_t cut = text.size();
    if (text.size() > room) {
      cut = text.rfind(' ', room);
      if (cut == std::string_view::npos || cut == 0) cut = room;  // one long word: hard break
    }
    out += std::string(prefix) + std::string(text.substr(0, cut)) + "\n";
    text.remove_prefix(cut);
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    prefix = next_prefix;
  }
  return out;
}

std::string Translator::render() {
  std::string out;
  const auto line = [&out](const std::string& s) { out += s + "\n"; };
  const auto comment = [&out](const std::string& s) { out += comment_lines("# ", s); };
  line("# failoverd configuration written by failoverctl import-keepalived.");
  out += comment_lines("# ", "From: " + for_comment(options_.source_name) + ", vrrp_instance " +
                                  for_comment(result_.instance) + ".", "# ");
  line("# Review every \"keepalived\" comment: each names an option that is mapped differently or");
  line("# not at all. Validate with: failoverd --check-config FILE");
  if (!result_.other_instances.empty()) {
    std::string names;
    for (const auto& o : result_.other_instances) names += (names.empty() ? "" : ", ") + o;
    line("#");
    out += comment_lines("# ", "failoverd runs one instance per file; not translated here: " +
                                    for_comment(names) + ".", "# ");
    line("# Translate each: failoverctl import-keepalived --vrrp-instance NAME FILE > "
         "/etc/failoverd/NAME.conf");
  }
  if (!top_notes_.empty()) {
    line("#");
    line("# keepalived options outside this vrrp_instance:");
    for (const auto& t : top_notes_) out += comment_lines("#   ", t, "#     ");
  }
  for (const Section* s : {&instance_, &vrrp_}) {
    line("");
    line("[" + s->name + "]");
    for (const auto& n : s->notes) comment(n);
    for (const auto& k : s->keys) line(k);
  }
  for (const auto& s : checks_) {
    line("");
    line("[" + s.name + "]");
    for (const auto& n : s.notes) comment(n);
    for (const auto& k : s.keys) line(k);
  }
  for (const Section* s : {&vip_, &notify_}) {
    if (s->keys.empty() && s->notes.empty()) continue;
    line("");
    line("[" + s->name + "]");
    for (const auto& n : s->notes) comment(n);
    for (const auto& k : s->keys) line(k);
  }
  return out;
}

util::Expected<ImportResult, ImportError> Translator::run() {
  scan_top_level();
  if (virtual_servers_ > 0) {
    const KeepalivedNode anchor{{"virtual_server"}, first_virtual_server_line_, false, {}};
    top_note(anchor, "virtual_server (" + std::to_string(virtual_servers_) +
                         " LVS blocks): not mapped: failoverd does not do load balancing");
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
  // Warnings in file order: the scan above saw every top-level statement first.
  instance(*chosen);
  result_.config = render();
  return std::move(result_);
}

}  // namespace

util::Expected<std::vector<KeepalivedNode>, ImportError> parse_keepalived(std::string_view text) {
  if (text.size() > kMaxKeepalivedBytes) {
    return util::unexpected(ImportError{0, "the file is larger than " +
                                               std::to_string(kMaxKeepalivedBytes >> 20) +
                                               " MiB; not a keepalived.conf"});
  }
  std::vector<KeepalivedNode> root;
  std::vector<KeepalivedNode> open;  // blocks being read, innermost last
  const auto current = [&]() -> std::vector<KeepalivedNode>& {
    return open.empty() ? root : open.back().children;
  };
  std::size_t line_no = 0;
  std::size_t pos = 0;
  std::vector<Token> tokens;
  while (pos < text.size()) {
    const auto nl = text.find('\n', pos);
    const std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    tokens.clear();
    if (!lex_line(line, /*structural=*/true, tokens)) {
      return util::unexpected(ImportError{line_no, "unterminated quote (quotes do not span "
                                                   "lines)"});
    }
    KeepalivedNode statement;
    statement.line = line_no;
    const auto flush = [&] {
      if (!statement.words.empty()) current().push_back(std::move(statement));
      statement = KeepalivedNode{};
      statement.line = line_no;
    };
    for (auto& t : tokens) {
      if (t.brace == '{') {
        if (statement.words.empty()) {
          // A '{' alone: it opens the block of the previous statement (brace on its own line).
          auto& list = current();
          if (list.empty() || list.back().has_block) {
            return util::unexpected(ImportError{line_no, "'{' without a keyword before it"});
          }
          statement = std::move(list.back());
          list.pop_back();
        }
        if (open.size() >= kMaxKeepalivedDepth) {
          return util::unexpected(ImportError{line_no, "blocks nested deeper than " +
                                                           std::to_string(kMaxKeepalivedDepth)});
        }
        statement.has_block = true;
        open.push_back(std::move(statement));
        statement = KeepalivedNode{};
        statement.line = line_no;
      } else if (t.brace == '}') {
        flush();
        if (open.empty()) {
          return util::unexpected(ImportError{line_no, "'}' without a matching '{'"});
        }
        KeepalivedNode done = std::move(open.back());
        open.pop_back();
        current().push_back(std::move(done));
      } else {
        statement.words.push_back(std::move(t.text));
      }
    }
    flush();
  }
  if (!open.empty()) {
    const KeepalivedNode& n = open.back();
    const std::string what = show(KeepalivedNode{n.words, n.line, false, {}});
    return util::unexpected(
        ImportError{n.line, "the block of \"" + what + "\" is not closed (missing '}')"});
  }
  return root;
}

std::vector<std::string> split_keepalived_command(std::string_view text) {
  std::vector<Token> tokens;
  if (!lex_line(text, /*structural=*/false, tokens)) return {};
  std::vector<std::string> argv;
  for (auto& t : tokens) argv.push_back(std::move(t.text));
  return argv;
}

util::Expected<ImportResult, ImportError> import_keepalived(std::string_view text,
                                                            const ImportOptions& options) {
  auto tree = parse_keepalived(text);
  if (!tree) return util::unexpected(tree.error());
  Translator t(*tree, options);
  return t.run();
}

}  // namespace failoverd::control
