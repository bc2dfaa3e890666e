// What node::Node (and its node::ReservedIp) asks the daemon to do, in order, after a call.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "failoverd/core/timing.h"
#include "failoverd/proto/advertisement.h"

namespace failoverd::node {

// Both clocks of one event: `steady` drives the Instance, `wall` stamps the history.
struct Now {
  core::Time steady{0};
  std::chrono::system_clock::time_point wall;
};

// ---- effects ----

// Send this advertisement (VRID, priority, interval and the address list filled in).
struct SendAdvert {
  proto::Advertisement advert;
};
// Add the [virtual_ip] addresses and announce each with a gratuitous ARP.
struct TakeVips {};
// Announce the addresses held again (switches forget; one ARP may be lost): garp_count - 1
// times after TakeVips, garp_interval apart, while the node stays MASTER.
struct AnnounceVips {};
// Remove the addresses that TakeVips added.
struct ReleaseVips {};
// Claim the reserved IP (the provider's claim, idempotent); report with on_claim_report().
struct StartClaim {
  std::string why;
};
// Ask the provider who holds the reserved IP; report with on_check_report().
struct StartCheck {};
// Run the [notify] hook of `hook` with argv PRIORITY `priority` and these extra variables.
enum class Hook : std::uint8_t { kMaster, kBackup, kFault, kStop };
struct RunHook {
  Hook hook;
  int priority = 0;
  std::map<std::string, std::string> env;
};
// sd_notify(3) text, e.g. "STATUS=MASTER".
struct NotifySystemd {
  std::string text;
};
enum class LogLevel : std::uint8_t { kDebug, kInfo, kWarn, kError };
struct Log {
  LogLevel level;
  std::string line;
};
// The Node's next deadline (the Instance's, a GARP repeat, a claim retry, a holder check): arm
// the one
// timer for `at` (nullopt: cancel it). Every call ends with one.
struct ArmTimer {
  std::optional<core::Time> at;
};

using Effect = std::variant<SendAdvert, TakeVips, AnnounceVips, ReleaseVips, StartClaim,
                            StartCheck, RunHook, NotifySystemd, Log, ArmTimer>;
using Effects = std::vector<Effect>;

}  // namespace failoverd::node
