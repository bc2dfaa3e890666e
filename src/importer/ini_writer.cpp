#include "failoverd/importer/ini_writer.h"

#include <algorithm>
#include <utility>

namespace failoverd::importer {

namespace {

bool printable(char c) {
  return c >= 0x20 && c < 0x7f;
}

// `text` as comment lines of at most 100 columns, broken at blanks.
std::string wrapped(std::string_view first_prefix, std::string_view raw,
                    std::string_view next_prefix) {
  constexpr std::size_t kWidth = 100;
  if (raw.empty()) {
    std::string_view bare = first_prefix;
    while (!bare.empty() && bare.back() == ' ') bare.remove_suffix(1);
    return std::string(bare) + "\n";
  }
  std::string clean(raw);  // keepalived words may hold any byte; a comment stays one line
  for (char& c : clean) c = printable(c) ? c : '?';
  std::string_view text = clean;
  std::string out;
  std::string_view prefix = first_prefix;
  while (!text.empty()) {
    const std::size_t room = kWidth > prefix.size() ? kWidth - prefix.size() : 1;
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

}  // namespace

bool writable_value(std::string_view v) {
  if (v.empty() || v.front() == ' ' || v.back() == ' ') return false;
  return std::all_of(v.begin(), v.end(), [](char c) { return printable(c) && c != '#'; });
}

IniSection::IniSection(std::string name) : name_(std::move(name)) {
  if (name_.empty()) return;
  auto kind = config::section_kind(name_);
  if (kind) {
    kind_ = *kind;
  } else {
    fail("[" + name_ + "]: " + kind.error());
  }
}

void IniSection::fail(std::string message) {
  if (!error_) error_ = std::move(message);
}

void IniSection::note(std::string text, std::string first, std::string next) {
  if (first.empty() || first[0] != '#' || next.empty() || next[0] != '#') {
    fail("[" + name_ + "]: a comment prefix that does not start with '#'");
  }
  notes_.push_back({std::move(first), std::move(next), std::move(text)});
}

void IniSection::fixme(std::string line) {
  const bool ok = !line.empty() && std::all_of(line.begin(), line.end(), [](char c) {
    return printable(c) && c != '#' && c != '=';
  });
  if (!ok) fail("[" + name_ + "]: a FIXME line the config parser would not show as it is");
  fixmes_.push_back(std::move(line));
}

void IniSection::set(std::string_view key, std::string_view value) {
  const std::string where = "[" + name_ + "] " + std::string(key);
  if (!kind_) {
    fail(where + ": a key outside any section of failoverd's schema");
    return;
  }
  const config::KeySpec* spec = config::find_key(*kind_, key);
  if (spec == nullptr) {
    fail(where + ": not a key of failoverd's schema");
    return;
  }
  const bool again =
      std::any_of(keys_.begin(), keys_.end(), [&](const auto& kv) { return kv.first == key; });
  if (again && !spec->repeatable) {
    fail(where + ": set twice, and it takes one value");
    return;
  }
  if (!writable_value(value)) {
    fail(where + ": a value the config parser would not read back as it is");
    return;
  }
  keys_.emplace_back(std::string(key), std::string(value));
}

std::string IniSection::render() const {
  std::string out;
  if (!name_.empty()) out += "[" + name_ + "]\n";
  for (const auto& n : notes_) out += wrapped(n.first, n.text, n.next);
  for (const auto& f : fixmes_) out += f + "\n";
  for (const auto& [k, v] : keys_) out += k + " = " + v + "\n";
  return out;
}

util::Expected<std::string, std::string> render_ini(
    const std::vector<const IniSection*>& sections) {
  std::string out;
  for (const IniSection* s : sections) {
    if (s->error()) return util::unexpected(*s->error());
    if (!s->name().empty() && !out.empty()) out += "\n";
    out += s->render();
  }
  return out;
}

}  // namespace failoverd::importer
