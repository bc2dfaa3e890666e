// What failoverctl does once its command line is parsed: find the socket, send the request,
// print the answer, choose the exit code. The argument parsing itself (Boost.Program_options)
// stays in src/main/failoverctl.cpp; this part is a library so tests can run it against a
// real ControlServer with string streams.
#pragma once

#include <chrono>
#include <filesystem>
#include <istream>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>

#include "failoverd/control/control_client.h"
#include "failoverd/control/control_protocol.h"
#include "failoverd/util/expected.h"

namespace failoverd::control {

enum ExitCode : int {
  kExitOk = 0,
  kExitDaemonError = 1,  // the daemon answered with an error, or wait-healthy timed out
  kExitUsage = 2,
  kExitUnreachable = 3,  // no socket, permission denied, no or malformed answer
};

inline constexpr const char* kDefaultRunDir = "/run/failoverd";
inline constexpr const char* kDefaultInstance = "failoverd";

struct CtlInvocation {
  std::optional<std::filesystem::path> socket;  // --socket
  std::optional<std::string> instance;          // --instance
  std::string command;  // status failover maintenance reload checks history wait-healthy restart
  nlohmann::json args = nlohmann::json::object();  // maintenance: {"enabled": bool}
  bool json = false;                               // --json: print the result as one line
  std::chrono::milliseconds call_timeout = kDefaultClientTimeout;
  std::chrono::milliseconds wait_timeout{300'000};  // wait-healthy --timeout
  std::chrono::milliseconds poll_interval{1000};    // wait-healthy: time between two polls
};

// --socket wins; then --instance NAME is RUN_DIR/NAME.sock; otherwise the only *.sock in
// RUN_DIR, or RUN_DIR/failoverd.sock when there is none. Several sockets without --instance
// is a usage error naming them.
util::Expected<std::filesystem::path, std::string> resolve_socket(
    const std::optional<std::filesystem::path>& socket, const std::optional<std::string>& instance,
    const std::filesystem::path& run_dir = kDefaultRunDir);

// The checks as a table: name, type, ok, consecutive passes and failures, last run, detail.
std::string format_checks_table(const std::vector<CheckStatus>& checks);

// The readable `failoverctl status` view.
std::string format_status_table(const Status& status);

// Runs one invocation; returns the process exit code.
int run_ctl(const CtlInvocation& invocation, std::ostream& out, std::ostream& err,
            const std::filesystem::path& run_dir = kDefaultRunDir);

// `failoverctl import-keepalived [--vrrp-instance NAME] [--host NAME] FILE|-`: translates a
// keepalived.conf (see importer/keepalived_import.h) without talking to any daemon. Reads
// FILE, or `in` for "-"; `host` is keepalived's config id for "@ID" lines (nullopt: such lines
// are refused).
// Prints the failoverd config to `out` and the warnings to `err`. Returns kExitOk, or
// kExitDaemonError (1) with one line on `err` naming the path and nothing on `out` when the
// file cannot be read (missing, a directory, a read error, over kMaxKeepalivedBytes) or
// translated, or `out` cannot be written.
int run_import_keepalived(const std::string& path, const std::optional<std::string>& vrrp_instance,
                          const std::optional<std::string>& host, std::istream& in,
                          std::ostream& out, std::ostream& err);

// keepalived's default config id: this host's name up to the first '.' (keepalived's main.c
// takes uname's nodename); nullopt when there is none.
std::optional<std::string> local_config_id();

}  // namespace failoverd::control
