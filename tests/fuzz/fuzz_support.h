// Shared by the fuzz targets: contract checks that abort the fuzzer with a message, and a
// guard that turns any escaping exception into a crash (the parsers promise never to throw;
// libFuzzer would otherwise report an uncaught exception only as a generic abort).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <algorithm>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

[[noreturn]] inline void fail(const char* file, int line, const char* what, std::string_view detail) {
  std::fprintf(stderr, "\n==fuzz contract violated== %s:%d: %s\n", file, line, what);
  if (!detail.empty()) {
    constexpr std::size_t kMax = 8000;
    std::fprintf(stderr, "  detail: %.*s%s\n", static_cast<int>(std::min(detail.size(), kMax)),
                 detail.data(), detail.size() > kMax ? "..." : "");
  }
  std::fflush(stderr);
  __builtin_trap();
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits the input at the first occurrence of `sep` (a byte unlikely in real input): the part
// before and the rest. No separator: everything is `head`, `tail` is empty.
struct Split {
  std::string_view head;
  std::string_view tail;
};
inline Split split_at(std::string_view text, char sep) {
  const auto pos = text.find(sep);
  if (pos == std::string_view::npos) return {text, {}};
  return {text.substr(0, pos), text.substr(pos + 1)};
}

// Lines of `text` split at '\n' (none empty is not promised).
inline std::vector<std::string> lines(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto pos = text.find('\n');
    out.emplace_back(text.substr(0, pos));
    if (pos == std::string_view::npos) break;
    text.remove_prefix(pos + 1);
  }
  return out;
}

}  // namespace fuzz

#define FUZZ_CHECK(cond, detail)                                                       \
  do {                                                                                 \
    if (!(cond)) ::fuzz::fail(__FILE__, __LINE__, "FUZZ_CHECK(" #cond ")", (detail)); \
  } while (0)

// The body of LLVMFuzzerTestOneInput: `body` is called with (data, size); an exception that
// escapes it is a finding.
#define FUZZ_GUARD(body)                                                                   \
  try {                                                                                    \
    body;                                                                                  \
  } catch (const std::exception& e) {                                                      \
    ::fuzz::fail(__FILE__, __LINE__, "exception escaped the parser", e.what());            \
  } catch (...) {                                                                          \
    ::fuzz::fail(__FILE__, __LINE__, "non-std exception escaped the parser", "");          \
  }
