#include "failoverd/health/check.h"

#include <stdexcept>

#include "curl_get.h"
#include "failoverd/health/docker_check.h"
#include "failoverd/health/exec_check.h"
#include "failoverd/health/http_check.h"
#include "failoverd/health/tcp_check.h"

namespace failoverd::health {

Check::~Check() = default;

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one (overlong forms,
// surrogates and code points above U+10FFFF included).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  std::size_t n;
  unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  const auto b1 = static_cast<unsigned char>(s[i + 1]);
  if (b1 < lo || b1 > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (b < 0x80 || b > 0xBF) return 0;
  }
  return n;
}

}  // namespace

std::string one_line(std::string_view text, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 3);
  bool space_pending = false;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = utf8_length(text, i);
    std::string_view piece;
    if (n == 0) {
      piece = "?";
      n = 1;
    } else if (n == 1 && (c < 0x20 || c == 0x7F || c == ' ')) {
      space_pending = !out.empty();  // runs of blanks and controls become one space
      i += 1;
      continue;
    } else {
      piece = text.substr(i, n);
    }
    const std::size_t need = piece.size() + (space_pending ? 1 : 0);
    if (out.size() + need > max_bytes) {
      out += "...";
      return out;
    }
    if (space_pending) out += ' ';
    space_pending = false;
    out += piece;
    i += n;
  }
  return out;
}

std::unique_ptr<Check> make_check(const config::CheckConfig& cfg) {
  detail::ensure_curl_initialised();
  return std::visit(
      [&](const auto& spec) -> std::unique_ptr<Check> {
        using Spec = std::decay_t<decltype(spec)>;
        if constexpr (std::is_same_v<Spec, config::DockerCheckSpec>) {
          return std::make_unique<DockerCheck>(spec, cfg.timeout);
        } else if constexpr (std::is_same_v<Spec, config::HttpCheckSpec>) {
          return std::make_unique<HttpCheck>(spec, cfg.timeout);
        } else if constexpr (std::is_same_v<Spec, config::TcpCheckSpec>) {
          return std::make_unique<TcpCheck>(spec, cfg.timeout);
        } else {
          std::optional<RunAs> run_as;
          if (spec.user) {
            try {
              run_as = lookup_user(*spec.user);
            } catch (const std::exception& e) {
              throw std::runtime_error("[check." + cfg.name + "] user: " + e.what());
            }
          }
          if (spec.command.empty()) {
            throw std::runtime_error("[check." + cfg.name + "] command: empty");
          }
          return std::make_unique<ExecCheck>(spec, cfg.timeout, std::move(run_as));
        }
      },
      cfg.spec);
}

}  // namespace failoverd::health
