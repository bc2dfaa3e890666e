// `failoverctl import-keepalived`: translates the VRRP part of a keepalived.conf (one
// vrrp_instance, the vrrp_scripts it tracks, its notify scripts) into a failoverd INI file.
//
// Pure: text in, text out. Two steps, both total over any input (a result or an error with a
// line number, never a crash): parse_keepalived() (keepalived_parser.h) reads keepalived's
// syntax into a tree of statements, import_keepalived() maps that tree to failoverd's keys,
// written through config's schema (ini_writer.h). Every keepalived option
// without an equivalent becomes a "# keepalived ..." comment in the output, so nothing is
// dropped silently; the things a user must act on are also returned as warnings.
//
// failoverd runs one VRRP instance per config file. With several vrrp_instance blocks the
// first is translated (or the one named in ImportOptions::vrrp_instance) and a warning names
// the others and the command that translates each of them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "failoverd/importer/keepalived_parser.h"
#include "failoverd/util/expected.h"

namespace failoverd::importer {

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

// Errors: a parse error; no vrrp_instance; ImportOptions::vrrp_instance not found; "internal
// error: ..." (line 0) if the output would hold a key outside config's schema, a bug in the
// translation that the writer refuses (ini_writer.h) rather than print.
util::Expected<ImportResult, ImportError> import_keepalived(std::string_view text,
                                                            const ImportOptions& options = {});

}  // namespace failoverd::importer
