#include "failoverd/cloud/provider.h"

namespace failoverd::cloud {

const char* to_string(CloudErrorKind k) {
  switch (k) {
    case CloudErrorKind::kAuth:
      return "auth";
    case CloudErrorKind::kNotFound:
      return "not found";
    case CloudErrorKind::kRejected:
      return "rejected";
    case CloudErrorKind::kUnavailable:
      return "unavailable";
    case CloudErrorKind::kBadResponse:
      return "bad response";
    case CloudErrorKind::kActionErrored:
      return "action errored";
    case CloudErrorKind::kDeadline:
      return "deadline";
    case CloudErrorKind::kConfig:
      return "config";
  }
  return "?";
}

bool CloudError::permanent() const {
  switch (kind) {
    case CloudErrorKind::kAuth:
    case CloudErrorKind::kNotFound:
    case CloudErrorKind::kRejected:
    case CloudErrorKind::kConfig:
      return true;
    default:
      return false;
  }
}

const char* to_string(ClaimOutcome o) {
  switch (o) {
    case ClaimOutcome::kAlreadyHeld:
      return "already held";
    case ClaimOutcome::kClaimed:
      return "claimed";
    case ClaimOutcome::kFailed:
      return "failed";
  }
  return "?";
}

}  // namespace failoverd::cloud
