#include "failoverd/daemon/unsupported.h"

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
  const config::NotifyConfig& n = cfg.notify;
  if (!n.master.empty() || !n.backup.empty() || !n.fault.empty() || !n.stop.empty()) {
    out.push_back({"notify", "", "notify hooks " + why});
  }
  if (cfg.metrics.listen) out.push_back({"metrics", "listen", "the metrics endpoint " + why});
  return out;
}

}  // namespace failoverd::daemon
