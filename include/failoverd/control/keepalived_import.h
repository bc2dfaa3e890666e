// `failoverctl import-keepalived`: translates the VRRP part of a keepalived.conf (one
// vrrp_instance, the vrrp_scripts it tracks, its notify scripts) into a failoverd INI file.
//
// Pure: text in, text out. Two steps, both total over any input (a result or an error with a
// line number, never a crash): parse_keepalived() reads keepalived's syntax into a tree of
// statements, import_keepalived() maps that tree to failoverd's keys. Every keepalived option
// without an equivalent becomes a "# keepalived ..." comment in the output, so nothing is
// dropped silently; the things a user must act on are also returned as warnings.
//
// failoverd runs one VRRP instance per config file. With several vrrp_instance blocks the
// first is translated (or the one named in ImportOptions::vrrp_instance) and a warning names
// the others and the command that translates each of them.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "failoverd/util/expected.h"

namespace failoverd::control {

// A keepalived input error. `line` is 1-based; 0 = the input as a whole.
struct ImportError {
  std::size_t line = 0;
  std::string message;

  // "line 12: unterminated double quote", or just the message when line is 0.
  std::string to_string() const;
};

// One keepalived statement: the words of one line (quotes removed, keepalived's escapes
// applied), and the statements of its { } block when it has one.
struct KeepalivedNode {
  std::vector<std::string> words;  // never empty
  std::size_t line = 0;
  bool has_block = false;
  std::vector<KeepalivedNode> children;
};

// Limits that keep hostile input cheap; real configs are far below them.
inline constexpr std::size_t kMaxKeepalivedBytes = 16 * 1024 * 1024;
inline constexpr std::size_t kMaxKeepalivedDepth = 32;

// keepalived's syntax: one statement per line; blocks in braces (the '{' on the statement's
// line or alone on the next); comments from '#' or '!' to the end of the line outside quotes;
// "double" and 'single' quoted strings (joined with adjacent text, as in the shell; they do
// not span lines) with backslash escapes inside quotes. Errors: unbalanced braces, an
// unterminated quote, nesting deeper than kMaxKeepalivedDepth, input over kMaxKeepalivedBytes.
//
// keepalived's preprocessing, where it changes what a line means: a line "@ID ..." / "@^ID ..."
// is kept or dropped for `config_id` (keepalived -i; nullopt: such a line is an error).
// Refused with the line, as they cannot be translated without guessing: "$NAME=" definitions,
// "~SEQ"/"~LST", uses of keepalived's built-in definitions ($_PWD, ${_RANDOM}, ...), include.
util::Expected<std::vector<KeepalivedNode>, ImportError> parse_keepalived(
    std::string_view text, const std::optional<std::string>& config_id = std::nullopt);

// keepalived's split of a script string into argv (vrrp_script `script`, notify_*): words
// separated by unquoted blanks, quotes grouping and removed, escapes applied. Empty when the
// string is blank or has an unterminated quote.
std::vector<std::string> split_keepalived_command(std::string_view text);

struct ImportOptions {
  std::optional<std::string> vrrp_instance;  // translate this vrrp_instance, not the first
  std::string source_name = "keepalived.conf";  // named in the output's header comment
  // keepalived's config id (-i, default the hostname up to the first '.') for "@ID" lines;
  // nullopt: a file with such lines is refused.
  std::optional<std::string> host;
};

struct ImportResult {
  std::string config;                  // failoverd INI text, ending in a newline
  std::vector<std::string> warnings;   // "line 3: ...": what the user must review or fix
  std::string instance;                // the keepalived vrrp_instance translated
  std::vector<std::string> other_instances;  // the vrrp_instances not translated
};

// Errors: a parse error; no vrrp_instance; ImportOptions::vrrp_instance not found.
util::Expected<ImportResult, ImportError> import_keepalived(std::string_view text,
                                                            const ImportOptions& options = {});

}  // namespace failoverd::control
