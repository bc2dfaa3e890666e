// Runs the reserved-address provider's calls for the Node. They block (HTTP with retries,
// polling an action), so they run one at a time on a worker thread of their own, which makes
// and then owns the provider; each result is posted back to the loop. When to call is the
// Node's (node::ReservedIp); this only carries the calls out.
#pragma once

#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "failoverd/cloud/provider.h"

namespace failoverd::daemon {

class ProviderWorker {
 public:
  using MakeProvider = std::function<std::unique_ptr<cloud::ReservedAddressProvider>()>;
  using OnClaim = std::function<void(const cloud::ClaimReport&)>;
  using OnCheck = std::function<void(const cloud::CloudResult<cloud::HolderStatus>&)>;

  // `make_provider` runs on the worker thread, at the first call.
  ProviderWorker(boost::asio::io_context& io, MakeProvider make_provider);
  ~ProviderWorker();  // waits for a call in flight (bounded by the provider's deadline)
  ProviderWorker(const ProviderWorker&) = delete;
  ProviderWorker& operator=(const ProviderWorker&) = delete;

  // Queue the call; `done` runs on the loop thread with its result, unless stop() came first.
  void claim(OnClaim done);
  void check(OnCheck done);
  void stop();

 private:
  boost::asio::io_context& io_;
  MakeProvider make_provider_;
  std::shared_ptr<std::unique_ptr<cloud::ReservedAddressProvider>> provider_;  // worker only
  std::shared_ptr<bool> alive_;  // loop thread only
  boost::asio::thread_pool worker_{1};
};

}  // namespace failoverd::daemon
