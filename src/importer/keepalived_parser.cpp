#include "failoverd/importer/keepalived_parser.h"

#include <algorithm>
#include <set>
#include <utility>

namespace failoverd::importer {

std::string ImportError::to_string() const {
  if (line == 0) return message;
  return "line " + std::to_string(line) + ": " + message;
}

namespace {

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


// A statement's words for an error message: joined, cut to one bounded printable line.
std::string shown(const std::vector<std::string>& words) {
  constexpr std::size_t kMax = 160;
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  std::string clean;
  for (const char c : out.substr(0, kMax)) clean += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out.size() > kMax ? clean + "..." : clean;
}

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

// keepalived's check_definition(): "$NAME=..." (blanks allowed before '=').
bool is_definition(std::string_view s) {
  if (s.size() < 2 || s[0] != '$' || !is_name_start(s[1])) return false;
  std::size_t i = 2;
  while (i < s.size() && is_name_char(s[i])) ++i;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return i < s.size() && s[i] == '=';
}

// A use of one of keepalived's built-in definitions ($_PWD, ${_RANDOM 1 5}, ...), which it
// substitutes in every line.
std::optional<std::string> builtin_use(std::string_view w) {
  static const std::set<std::string, std::less<>> kBuiltins = {"_PWD",  "_INSTANCE", "_RANDOM",
                                                               "_ENV",  "_HASH",     "_BANG"};
  for (std::size_t p = w.find('$'); p != std::string_view::npos; p = w.find('$', p + 1)) {
    std::size_t i = p + 1;
    if (i < w.size() && w[i] == '{') ++i;
    const std::size_t start = i;
    while (i < w.size() && is_name_char(w[i])) ++i;
    const std::string_view name = w.substr(start, i - start);
    if (kBuiltins.count(name) != 0) return std::string(name);
  }
  return std::nullopt;
}

// keepalived's is_include(): "include", or includer/m/w/b/a, then a blank.
bool is_include(std::string_view s) {
  if (s.substr(0, 7) != "include" || s.size() < 8) return false;
  if (is_blank(s[7])) return true;
  return s.size() > 8 && is_blank(s[8]) &&
         std::string_view("rmwba").find(s[7]) != std::string_view::npos;
}

}  // namespace

util::Expected<std::vector<KeepalivedNode>, ImportError> parse_keepalived(
    std::string_view text, const std::optional<std::string>& config_id) {
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
    // keepalived's read_line(), on the line without leading blanks: "@ID rest" keeps rest on
    // the host whose config id (keepalived -i, default the hostname up to the first '.') is ID,
    // "@^ID rest" on every other host; "@ID" alone is dropped everywhere.
    std::string_view content = line.substr(std::min(line.size(), line.find_first_not_of(" \t")));
    if (!content.empty() && content[0] == '@') {
      if (!config_id) {
        return util::unexpected(ImportError{line_no, "conditional line (@ID): name the host to "
                                                     "translate for with --host NAME"});
      }
      const bool reverse = content.size() > 1 && content[1] == '^';
      const std::size_t ofs = reverse ? 2 : 1;
      const std::size_t blank = content.find_first_of(" \t", ofs);
      if (blank == std::string_view::npos) continue;
      const bool match = content.substr(ofs, blank - ofs) == *config_id;
      if (match == reverse) continue;
      content = content.substr(blank);
      content = content.substr(std::min(content.size(), content.find_first_not_of(" \t")));
    }
    if (is_definition(content)) {
      return util::unexpected(ImportError{
          line_no, "parameter definitions ($NAME=...) are not supported: keepalived substitutes "
                   "them into later lines; expand them by hand first"});
    }
    if (!content.empty() && content[0] == '~') {
      return util::unexpected(ImportError{line_no, "~SEQ / ~LST line repetition is not "
                                                   "supported: expand it by hand first"});
    }
    if (is_include(content)) {
      return util::unexpected(ImportError{
          line_no, "include is not followed: merge the included files into one file (in "
                   "keepalived's order) and translate that"});
    }
    if (!lex_line(content, /*structural=*/true, tokens)) {
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
        if (auto name = builtin_use(t.text)) {
          return util::unexpected(ImportError{
              line_no, "$" + *name + ": keepalived substitutes its built-in definitions; "
                       "failoverctl does not: write the value by hand first"});
        }
        statement.words.push_back(std::move(t.text));
      }
    }
    flush();
  }
  if (!open.empty()) {
    const KeepalivedNode& n = open.back();
    const std::string what = shown(n.words);
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

}  // namespace failoverd::importer
