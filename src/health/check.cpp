#include "failoverd/health/check.h"

#include <stdexcept>
#include <variant>

#include "failoverd/health/docker_check.h"
#include "failoverd/health/exec_check.h"
#include "failoverd/health/http_check.h"
#include "failoverd/health/tcp_check.h"
#include "failoverd/http/easy.h"
#include "failoverd/util/utf8.h"

namespace failoverd::health {

Check::~Check() = default;

std::string one_line(std::string_view text, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 3);
  bool space_pending = false;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = util::utf8_sequence_length(text, i);
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
  // libcurl is loaded (and initialised, once) only for the checks that speak HTTP.
  if (std::holds_alternative<config::DockerCheckSpec>(cfg.spec) ||
      std::holds_alternative<config::HttpCheckSpec>(cfg.spec)) {
    (void)http::init();  // a failure is reported by every run of the check
  }
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
