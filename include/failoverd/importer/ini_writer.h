// The importer's output: failoverd INI text, written only through config's schema
// (config/schema.h), so the importer cannot emit a section or key that failoverd does not know,
// nor a second value of a key that takes one. Such a key is a bug in the importer, not in its
// input: render_ini() refuses the whole output rather than write it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "failoverd/config/schema.h"
#include "failoverd/util/expected.h"

namespace failoverd::importer {

// One section of the output: comment lines first, then FIXME lines, then its keys.
class IniSection {
 public:
  // `name` as between the brackets ("vrrp", "check.web"); "" is the preamble before the first
  // section, which takes comments and FIXME lines but no keys.
  explicit IniSection(std::string name);

  const std::string& name() const { return name_; }

  // A comment, wrapped at 100 columns: "<first>text", continued on "<next>..." lines.
  void note(std::string text, std::string first = "# ", std::string next = "#   ");

  // A line that is not a comment, so that the config parser refuses the file and shows it.
  // REQUIRES: printable ASCII without '#' or '=' (else render_ini() fails).
  void fixme(std::string line);

  // `key = value`. The key must be in the section's schema and, unless repeatable, set once;
  // the value non-empty printable ASCII without '#' or blanks at its ends (what the config
  // parser reads back unchanged). Otherwise render_ini() fails naming the key.
  void set(std::string_view key, std::string_view value);

  bool has_keys() const { return !keys_.empty(); }
  bool empty() const { return notes_.empty() && fixmes_.empty() && keys_.empty(); }

  // The first mistake made writing this section, if any.
  const std::optional<std::string>& error() const { return error_; }

  std::string render() const;

 private:
  struct Note {
    std::string first, next, text;
  };
  void fail(std::string message);

  std::string name_;
  std::optional<config::SectionKind> kind_;
  std::vector<Note> notes_;
  std::vector<std::string> fixmes_;
  std::vector<std::pair<std::string, std::string>> keys_;
  std::optional<std::string> error_;
};

// Whether the config parser reads `value` back unchanged as a key's value.
bool writable_value(std::string_view value);

// The sections in order, a blank line before each named one; or the first section's error.
util::Expected<std::string, std::string> render_ini(const std::vector<const IniSection*>& sections);

}  // namespace failoverd::importer
