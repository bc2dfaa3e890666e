// The control protocol between failoverd and failoverctl (docs/control-protocol.md): one JSON
// request line in, one JSON answer line out, over a unix stream socket. This file is pure:
// strings in, values out; the sockets live in control_server.h and control_client.h.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "failoverd/util/expected.h"

namespace failoverd::control {

// Bumped only for an incompatible change; new optional keys do not change it.
inline constexpr int kProtocolVersion = 1;
// The longest request line the server reads, without its '\n'.
inline constexpr std::size_t kMaxRequestBytes = 64 * 1024;
// The longest answer line the client reads (a status with many checks stays far below).
inline constexpr std::size_t kMaxAnswerBytes = 4 * 1024 * 1024;

// `failover` takes an optional {"hold_ms": N}: the resigned node does not preempt back for N
// ms (default 60 s), at most a day (for longer, maintenance).
inline constexpr std::int64_t kMaxFailoverHoldMs = 24LL * 3600 * 1000;

// The commands the daemon understands. `wait-healthy` is not one: failoverctl polls `status`.
inline constexpr std::array<std::string_view, 7> kCommands = {"status", "failover", "maintenance",
                                                              "reload", "checks",   "history",
                                                              "restart"};

struct Request {
  int version = kProtocolVersion;
  std::string command;
  nlohmann::json args = nlohmann::json::object();  // always an object once parsed
};

// What a command handler gives back: the result object, or one sentence of error.
using Outcome = util::Expected<nlohmann::json, std::string>;

// Parses and validates one request line (without or with its trailing '\n'). Checks the
// version, that the command is known, and each command's arguments (maintenance needs
// {"enabled": bool}; the others take none). Never throws; the error is one sentence fit to
// send back to the client.
util::Expected<Request, std::string> parse_request(std::string_view line);

// One request line, '\n'-terminated.
std::string format_request(const Request& request);

// One answer line, '\n'-terminated: {"version":1,"ok":true,"result":...} or
// {"version":1,"ok":false,"error":"..."}. Invalid UTF-8 in strings is replaced, not thrown.
std::string format_response(const Outcome& outcome);
std::string format_error_response(std::string_view error);

// An answer as the client sees it.
struct Response {
  bool ok = false;
  nlohmann::json result;  // when ok
  std::string error;      // when !ok
};

// Parses one answer line; the error says what is wrong with it ("not JSON: ...",
// "protocol version 2, failoverctl speaks 1", ...).
util::Expected<Response, std::string> parse_response(std::string_view line);

// ---- the status document (`failoverctl status --json`, docs/control-protocol.md) ----

struct CheckStatus {
  std::string name;
  std::string type;  // docker | http | tcp | exec
  bool ok = false;
  std::string detail;
  std::optional<std::string> last_run;  // ISO-8601 time of the last run; null before the first
  int consecutive_passes = 0;
  int consecutive_failures = 0;
};

struct ReservedIpStatus {
  std::string address;
  std::string provider;
  std::optional<std::string> holder;      // who the provider says holds it, when known
  std::optional<std::string> last_claim;  // ISO-8601 time of our last successful claim
};

struct Status {
  std::string name;
  std::string state;  // INIT BACKUP MASTER FAULT
  int priority = 0;
  int effective_priority = 0;
  int virtual_router_id = 0;
  std::optional<std::string> master;  // address of the current master
  std::vector<CheckStatus> checks;
  std::optional<ReservedIpStatus> reserved_ip;
  bool maintenance = false;
  std::string transport;  // vrrp | udp
  std::string interface;
  // With exactly one unicast peer (and [vrrp] instant_handover not "no"), a priority-0 advert
  // is answered at once instead of after Skew_Time.
  bool instant_handover = false;
  std::string advert_interval;  // "1s", as the config writes durations
  double master_down_interval_ms = 0;
  double skew_time_ms = 0;
  std::uint64_t adverts_sent = 0;
  std::uint64_t adverts_received = 0;
  std::map<std::string, std::uint64_t> drops;  // proto::DropReason name -> count
  std::string since;                           // ISO-8601 time of the last transition
  std::uint64_t transitions = 0;
  double uptime_s = 0;
  int pid = 0;
};

// Keys exactly as docs/control-protocol.md lists them, plus the extras above under their field names.
// `master` and `reserved_ip` are null when absent.
nlohmann::json to_json(const Status& status);

// The inverse, for failoverctl's table. The stable keys are required; the extras default
// when missing, so a client can show an older or newer daemon's status.
util::Expected<Status, std::string> status_from_json(const nlohmann::json& j);

}  // namespace failoverd::control
