// failoverctl import-keepalived (src/importer/keepalived_import.cpp): reads whatever
// keepalived.conf an operator points it at, and writes a failoverd config they will install.
//
// Contract: never throws. An error has a reason (and a line within the input, or 0). An
// accepted import gives an INI text ending in a newline that
// config::parse_config accepts, or that carries a FIXME line telling the user what to set;
// every warning is a non-empty line. An error is never the writer refusing a key that is not
// in config's schema (an "internal error": a bug in the importer, not in the input).
// Importing one of the other instances by name works too,
// and so does importing for a named host (conditional lines resolved).
// parse_keepalived's tree has non-empty words and line numbers within the input.
#include <algorithm>
#include <string>

#include "failoverd/config/config.h"
#include "failoverd/importer/keepalived_import.h"
#include "fuzz_support.h"

namespace importer = failoverd::importer;
namespace config = failoverd::config;

namespace {

std::size_t count_lines(std::string_view text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
}

void check_tree(const std::vector<importer::KeepalivedNode>& nodes, std::size_t lines,
                std::size_t depth) {
  FUZZ_CHECK(depth <= importer::kMaxKeepalivedDepth + 1, std::to_string(depth));
  for (const auto& n : nodes) {
    FUZZ_CHECK(!n.words.empty(), "a statement with no words");
    FUZZ_CHECK(n.line >= 1 && n.line <= lines, std::to_string(n.line));
    FUZZ_CHECK(n.has_block || n.children.empty(), n.words[0]);
    check_tree(n.children, lines, depth + 1);
  }
}

void check_error(const importer::ImportError& e, std::size_t lines, const char* what) {
  FUZZ_CHECK(!e.message.empty(), std::string("empty import error ") + what);
  FUZZ_CHECK(e.line <= lines, e.to_string());
  FUZZ_CHECK(e.message.rfind("internal error", 0) != 0, e.to_string());
}

void check_result(std::string_view text, const importer::ImportResult& r) {
  FUZZ_CHECK(!r.config.empty() && r.config.back() == '\n', r.config);
  for (const auto& w : r.warnings) {
    FUZZ_CHECK(!w.empty(), "an empty warning");
    FUZZ_CHECK(w.find('\n') == std::string::npos, w);
  }
  const auto parsed = config::parse_config(r.config);
  if (!parsed && r.config.find("FIXME") == std::string::npos) {
    std::string problems;
    for (const auto& p : parsed.error()) problems += p.to_string() + "\n";
    fuzz::fail(__FILE__, __LINE__,
               "the imported config is refused by parse_config and has no FIXME line",
               "--- keepalived.conf:\n" + std::string(text) + "\n--- imported:\n" + r.config +
                   "--- problems:\n" + problems);
  }
}

void run(std::string_view text) {
  const auto lines = count_lines(text);
  const auto tree = importer::parse_keepalived(text);
  if (tree) {
    check_tree(*tree, lines, 0);
  } else {
    FUZZ_CHECK(!tree.error().message.empty(), "empty parse error");
    FUZZ_CHECK(tree.error().line <= lines, tree.error().to_string());
  }

  // With a host named (failoverctl's default is the hostname), "@ID" lines reach the
  // translator instead of being refused.
  importer::ImportOptions for_host;
  for_host.host = "lb1";
  const auto h = importer::import_keepalived(text, for_host);
  if (h) {
    check_result(text, *h);
  } else {
    check_error(h.error(), lines, "(--host lb1)");
  }

  const auto r = importer::import_keepalived(text);
  if (!r) {
    check_error(r.error(), lines, "");
    return;
  }
  FUZZ_CHECK(tree.has_value(), "imported what parse_keepalived refuses");
  check_result(text, *r);
  // A block with the name of an earlier one is skipped, as keepalived does, so every name
  // listed is a distinct instance (finding duplicate-instance-name, tests/fuzz/README.md).
  FUZZ_CHECK(std::find(r->other_instances.begin(), r->other_instances.end(), r->instance) ==
                 r->other_instances.end(),
             "the translated instance " + r->instance + " is also listed as not translated");
  if (!r->other_instances.empty()) {
    importer::ImportOptions options;
    options.vrrp_instance = r->other_instances.front();
    const auto other = importer::import_keepalived(text, options);
    FUZZ_CHECK(other.has_value(), "instance " + *options.vrrp_instance + ": " +
                                      other.error().to_string());
    FUZZ_CHECK(other->instance == *options.vrrp_instance, other->instance);
    check_result(text, *other);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FUZZ_GUARD(run(fuzz::as_text(data, size)));
  return 0;
}
