#include "failoverd/daemon/unsupported.h"

#include <unistd.h>

#include "failoverd/config/hook_files.h"

namespace failoverd::daemon {

std::vector<config::Problem> unsupported_features(const config::Config& cfg) {
  std::vector<config::Problem> out;
  const std::string why = "is valid but not supported by this version of failoverd yet; remove it "
                          "rather than believe it is in effect";
  if (cfg.reserved_ip.provider != config::Provider::kNone &&
      cfg.reserved_ip.provider != config::Provider::kDigitalOcean) {
    out.push_back({"reserved_ip", "provider",
                   std::string(config::to_string(cfg.reserved_ip.provider)) + " " + why});
  }
  return out;
}

std::vector<config::Problem> runtime_problems(const config::Config& cfg) {
  auto out = unsupported_features(cfg);
  auto hooks = config::check_hook_files(cfg.notify, ::geteuid());
  out.insert(out.end(), hooks.begin(), hooks.end());
  return out;
}

}  // namespace failoverd::daemon
