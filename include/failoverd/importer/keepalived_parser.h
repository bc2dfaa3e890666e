// keepalived.conf's syntax, read into a tree of statements for the importer
// (keepalived_import.h). Pure and total over any input: a tree or an error with a line number,
// never a crash.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "failoverd/util/expected.h"

namespace failoverd::importer {

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

}  // namespace failoverd::importer
