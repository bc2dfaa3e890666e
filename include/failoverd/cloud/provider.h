// What every reserved-address provider (DigitalOcean, Hetzner, Cloudflare, exec) offers the
// daemon: who holds the address now, and a blocking, idempotent claim with a report.
//
// Calls block (HTTP with retries, polling); the daemon runs them off its loop thread and posts
// the result back. One provider object is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "failoverd/cloud/http_client.h"
#include "failoverd/util/expected.h"

namespace failoverd::cloud {

enum class CloudErrorKind : std::uint8_t {
  kAuth,           // 401/403: the token is wrong or lacks scope. Permanent: the node goes FAULT.
  kNotFound,       // 404: no such address (or droplet) in this account. Permanent.
  kRejected,       // another 4xx the API will keep answering (wrong region, ...). Permanent.
  kUnavailable,    // timeouts, transport errors, 5xx, 429 left after the client's retries
  kBadResponse,    // a 2xx whose body is not what the API documents
  kActionErrored,  // the assign action ended "errored" every time we tried
  kDeadline,       // the claim ran out of time (locked too long, action still in progress)
  kConfig,         // unusable configuration (no token, bad droplet id from metadata, ...)
};
const char* to_string(CloudErrorKind k);  // "auth", "not found", ...

struct CloudError {
  CloudErrorKind kind = CloudErrorKind::kUnavailable;
  std::string message;            // one line; never holds the token
  std::optional<HttpError> http;  // the HTTP failure behind it, if any

  // Retrying will not help until the operator acts: auth, not found, rejected, config.
  bool permanent() const;
};

template <typename T>
using CloudResult = util::Expected<T, CloudError>;

// Who holds the address, in the provider's own terms.
struct HolderStatus {
  std::optional<std::string> holder;  // droplet/server id, record content; nullopt = nobody
  bool ours = false;                  // held by this node
  bool locked = false;                // the provider has an action pending on it
};

enum class ClaimOutcome : std::uint8_t {
  kAlreadyHeld,  // it was ours: nothing was changed
  kClaimed,      // we moved it to us and the provider confirmed
  kFailed,       // see ClaimReport::error
};
const char* to_string(ClaimOutcome o);  // "already held", "claimed", "failed"

struct ClaimReport {
  ClaimOutcome outcome = ClaimOutcome::kFailed;
  int attempts = 0;                      // assign requests sent (0 when already held)
  std::chrono::milliseconds latency{0};  // the whole claim
  std::string detail;               // one line for logs and status: what happened, never the token
  std::optional<CloudError> error;  // set iff outcome == kFailed

  bool ok() const { return outcome != ClaimOutcome::kFailed; }
  bool permanent_failure() const { return error && error->permanent(); }
};

class ReservedAddressProvider {
 public:
  virtual ~ReservedAddressProvider() = default;
  virtual const char* name() const = 0;  // "digitalocean", ...
  virtual CloudResult<HolderStatus> status() = 0;
  // Idempotent: when the address is already ours, no change is requested.
  virtual ClaimReport claim() = 0;
};

}  // namespace failoverd::cloud
