// ControlClient: failoverctl's end of the control socket. One blocking request/answer
// exchange per call, bounded by a timeout, with errors a person can act on.
#pragma once

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "failoverd/control/control_protocol.h"
#include "failoverd/util/expected.h"

namespace failoverd::control {

struct ClientError {
  enum class Kind {
    kNotRunning,        // no socket, or nobody listening on it
    kPermissionDenied,  // the socket (or its directory) is not ours to use
    kTimeout,           // connected, but no full answer in time
    kIo,                // any other socket error, or closed without an answer
    kMalformedAnswer,   // the answer is not a protocol answer
    kDaemonError,       // the daemon answered {"ok": false, "error": ...}
  };
  Kind kind;
  std::string message;  // e.g. "failoverd is not running (no socket at /run/failoverd/web.sock)"
};

inline constexpr std::chrono::milliseconds kDefaultClientTimeout{5000};

class ControlClient {
 public:
  explicit ControlClient(std::filesystem::path socket_path,
                         std::chrono::milliseconds timeout = kDefaultClientTimeout);

  // Sends {"version":1,"command":...,"args":...} and returns the answer's result. The timeout
  // covers connecting, sending and receiving together.
  util::Expected<nlohmann::json, ClientError> call(
      std::string_view command, const nlohmann::json& args = nlohmann::json::object()) const;

  // The raw exchange: sends `line` as is and returns the answer line without its '\n'.
  util::Expected<std::string, ClientError> exchange(std::string_view line) const;

  const std::filesystem::path& socket_path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::chrono::milliseconds timeout_;
};

}  // namespace failoverd::control
