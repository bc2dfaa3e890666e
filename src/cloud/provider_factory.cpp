#include "failoverd/cloud/provider_factory.h"

#include <utility>

#include "failoverd/cloud/cloudflare.h"
#include "failoverd/cloud/digitalocean.h"
#include "failoverd/cloud/exec_provider.h"
#include "failoverd/cloud/hetzner.h"
#include "failoverd/cloud/http_client.h"

namespace failoverd::cloud {

namespace {

using Log = std::function<void(const std::string&)>;

Log prefixed(const Log& log, const std::string& prefix) {
  if (!log) return {};
  return [log, prefix](const std::string& line) { log(prefix + ": " + line); };
}

// An HTTP provider: options read now, client and provider made on the worker.
// `adapt` fits the HTTP client to the API (how its rate limit headers are meant).
template <typename Provider, typename Options>
CloudResult<ProviderMaker> http_provider(
    CloudResult<Options> options, const Log& log, const std::string& name,
    HttpClientOptions (*adapt)(HttpClientOptions) = nullptr) {
  if (!options) return util::unexpected(options.error());
  options->log = prefixed(log, name);
  return ProviderMaker(
      [o = std::move(*options), log, adapt]() -> std::unique_ptr<ReservedAddressProvider> {
        HttpClientOptions http;
        if (adapt) http = adapt(std::move(http));
        http.log = prefixed(log, "http");
        return std::make_unique<Provider>(o, std::make_unique<CurlHttpClient>(std::move(http)));
      });
}

}  // namespace

CloudResult<ProviderMaker> provider_maker(const config::ReservedIpConfig& cfg,
                                          const std::string& instance, Log log) {
  switch (cfg.provider) {
    case config::Provider::kDigitalOcean:
      return http_provider<DigitalOcean>(digitalocean_options(cfg), log, "digitalocean");
    case config::Provider::kHetzner:
      return http_provider<Hetzner>(hetzner_options(cfg), log, "hetzner",
                                    [](HttpClientOptions h) { return hetzner_http_options(h); });
    case config::Provider::kCloudflare:
      return http_provider<Cloudflare>(cloudflare_options(cfg), log, "cloudflare");
    case config::Provider::kExec: {
      auto options = exec_provider_options(cfg, instance);
      if (!options) return util::unexpected(options.error());
      options->log = prefixed(log, "exec");
      return ProviderMaker(
          [o = std::move(*options)]() -> std::unique_ptr<ReservedAddressProvider> {
            return std::make_unique<ExecProvider>(o);
          });
    }
    case config::Provider::kNone: break;
  }
  return util::unexpected(CloudError{CloudErrorKind::kConfig, "no reserved IP provider", {}});
}

}  // namespace failoverd::cloud
