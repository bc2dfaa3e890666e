#include "failoverd/daemon/provider_worker.h"

#include <boost/asio/post.hpp>

namespace failoverd::daemon {

namespace asio = boost::asio;

ProviderWorker::ProviderWorker(asio::io_context& io, MakeProvider make_provider)
    : io_(io),
      make_provider_(std::move(make_provider)),
      provider_(std::make_shared<std::unique_ptr<cloud::ReservedAddressProvider>>()),
      alive_(std::make_shared<bool>(true)) {}

ProviderWorker::~ProviderWorker() {
  stop();
  worker_.join();
}

void ProviderWorker::stop() { *alive_ = false; }

void ProviderWorker::claim(OnClaim done) {
  asio::post(worker_, [this, provider = provider_, make = make_provider_, alive = alive_,
                       done = std::move(done)] {
    if (!*provider) *provider = make();
    cloud::ClaimReport report = (*provider)->claim();
    asio::post(io_, [alive, done, report = std::move(report)] {
      if (*alive) done(report);
    });
  });
}

void ProviderWorker::check(OnCheck done) {
  asio::post(worker_, [this, provider = provider_, make = make_provider_, alive = alive_,
                       done = std::move(done)] {
    if (!*provider) *provider = make();
    auto status = (*provider)->status();
    asio::post(io_, [alive, done, status = std::move(status)] {
      if (*alive) done(status);
    });
  });
}

}  // namespace failoverd::daemon
