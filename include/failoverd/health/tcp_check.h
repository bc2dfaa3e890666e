// The tcp check: healthy when a TCP connection to host:port is established within the timeout.
#pragma once

#include <chrono>

#include "failoverd/config/config.h"
#include "failoverd/health/check.h"

namespace failoverd::health {

// A host name is resolved on every run (getaddrinfo, on a helper thread so a slow resolver is
// bounded by the timeout too); each address is tried in turn until one connects or the
// timeout is spent. The connection is closed at once.
class TcpCheck final : public Check {
 public:
  TcpCheck(config::TcpCheckSpec spec, std::chrono::microseconds timeout);

  CheckResult run() override;

 private:
  config::TcpCheckSpec spec_;
  std::chrono::microseconds timeout_;
};

}  // namespace failoverd::health
