// The exec provider's reading of its program's output (src/cloud/exec_provider.cpp): the
// status run's stdout, and the last stderr line quoted in reports. The program is the
// operator's, but it may print anything (a shell script's set -x, a crash, binary junk).
//
// Contract: never throws. parse_exec_status is "ours" (holder = self, or "this node"), "none"
// (no holder) or "other HOLDER" (1..200 bytes, no control characters), else an error that
// is a non-empty sentence of at most a few hundred bytes. last_line is one line with no
// control characters, at most max_bytes (and "...").
#include <string>

#include "failoverd/cloud/exec_provider.h"
#include "fuzz_support.h"

namespace cloud = failoverd::cloud;

namespace {

bool clean(std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

void run(std::string_view in) {
  const std::string self = "node-a";
  const auto s = cloud::parse_exec_status(in, self);
  if (s) {
    if (s->ours) {
      FUZZ_CHECK(s->holder && *s->holder == self, std::string(in));
    } else if (s->holder) {
      FUZZ_CHECK(!s->holder->empty() && s->holder->size() <= 200 && clean(*s->holder), *s->holder);
    }
  } else {
    FUZZ_CHECK(!s.error().empty() && s.error().size() <= 400, s.error());
  }
  const auto ours_default = cloud::parse_exec_status(in, "");
  FUZZ_CHECK(ours_default.has_value() == s.has_value(), std::string(in));
  if (ours_default && ours_default->ours) FUZZ_CHECK(*ours_default->holder == "this node", "");

  for (std::size_t max : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{200}}) {
    const auto line = cloud::last_line(in, max);
    FUZZ_CHECK(clean(line), line);
    FUZZ_CHECK(line.size() <= max + 3, std::to_string(line.size()) + " > " + std::to_string(max));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FUZZ_GUARD(run(fuzz::as_text(data, size)));
  return 0;
}
