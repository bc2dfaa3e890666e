// The exec provider: a command the operator supplies moves the address, for any platform
// without a built-in provider. Docs and a complete example script: docs/exec-provider.md.
//
// The contract. The command is [reserved_ip] command (argv, no shell) with one more argument,
// the action. It runs in its own process group with the daemon's environment plus
//   FAILOVERD_ADDRESS=203.0.113.10  FAILOVERD_INSTANCE=<instance name>  FAILOVERD_ACTION=<action>
// stdin from /dev/null, at most call_timeout per run (then its whole process group is
// killed); output beyond 4 KiB per stream is read and dropped.
//
//   argv... claim   make the address point at this node; idempotent.
//     exit 0            claimed. A first stdout line "held" means it already was ours
//                       (ClaimOutcome::kAlreadyHeld); anything else is kClaimed.
//     exit 75           EX_TEMPFAIL: unavailable right now (rate limit, API down, lock held).
//     (or a timeout)    Retried with exponential backoff and jitter within claim_deadline.
//     exit 77           EX_NOPERM: credentials wrong or lacking. Permanent (kAuth): not retried,
//                       the daemon goes FAULT.
//     any other exit    failed; retried like 75, reported with the exit status and the last
//     (or a signal)     line of stderr (one line, capped).
//   A command that cannot be executed at all (missing, not executable) is a permanent kConfig
//   error. When claim_deadline runs out the claim fails with kDeadline, naming the last failure.
//
//   argv... status  who holds the address now; no retries (the daemon checks again later).
//     exit 0            first stdout line: "ours", "none" or "other <holder>".
//     exit 64           EX_USAGE: the command does not implement status. kUnavailable, with a
//                       message saying so; the daemon only logs status errors.
//     exit 75, timeout  kUnavailable.    exit 77: kAuth.
//     anything else     kBadResponse (another exit status, a signal, an unknown first line).
//
// ClaimReport::attempts counts runs of the claim command (1 when it answered "held").
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "failoverd/cloud/http_client.h"
#include "failoverd/cloud/provider.h"
#include "failoverd/config/config.h"
#include "failoverd/util/expected.h"
#include "failoverd/util/ipv4.h"
#include "failoverd/util/subprocess.h"

namespace failoverd::cloud {

// The exit statuses of the contract, as sysexits.h names them.
inline constexpr int kExecExitUsage = 64;     // EX_USAGE: "status" is not implemented
inline constexpr int kExecExitTempFail = 75;  // EX_TEMPFAIL: unavailable, try again
inline constexpr int kExecExitNoPerm = 77;    // EX_NOPERM: permanent auth error
// Output kept per stream (stdout, stderr) of one run.
inline constexpr std::size_t kExecProviderMaxOutput = 4096;
// The stderr line in reports is cut to this many bytes.
inline constexpr std::size_t kExecProviderMaxErrorLine = 200;

struct ExecProviderOptions {
  std::vector<std::string> argv;  // the command; the action is appended as the last argument
  util::Ipv4 address;             // FAILOVERD_ADDRESS
  std::string instance;           // FAILOVERD_INSTANCE
  Millis call_timeout{30000};     // one run; the process group is killed after it
  Millis claim_deadline{120000};  // a whole claim, all runs and waits included
  Millis retry_initial{500};      // wait after the first failed run (jittered), doubling ...
  Millis retry_max{10000};        // ... up to this
  // One line per run and per claim ("claim run 2: exit status 75: rate limited; retrying in
  // 812ms"). Called on the claiming thread.
  std::function<void(const std::string&)> log;
  // Uniform in [0, 1): the jitter source. Unset: a per-provider seeded PRNG.
  std::function<double()> random;
};

// The options of [reserved_ip] (provider = exec); `instance` is [instance] name, which the
// section does not hold. Errors are kConfig.
CloudResult<ExecProviderOptions> exec_provider_options(const config::ReservedIpConfig& cfg,
                                                       std::string instance = {});

// The first line of a status run's stdout (pure, for tests): "ours", "none" or "other <holder>",
// surrounding blanks and a trailing CR ignored. `self` becomes the holder of "ours". The error
// is a reason: "printed \"maybe\" (expected ours, none or other HOLDER)".
util::Expected<HolderStatus, std::string> parse_exec_status(std::string_view stdout_text,
                                                            const std::string& self);

// The last non-blank line of `text`, control characters as '?', cut to `max_bytes` (at a UTF-8
// character boundary, "..." appended). Empty when there is none.
std::string last_line(std::string_view text, std::size_t max_bytes);

// The wait before run n+1 after n failed runs: d/2 + d/2 * random, d = min(max, initial*2^(n-1)).
Millis exec_retry_delay(int failed_runs, Millis initial, Millis max, double random);

class ExecProvider final : public ReservedAddressProvider {
 public:
  // `clock` drives the backoff waits and the claim deadline and must outlive the provider.
  explicit ExecProvider(ExecProviderOptions options, Clock& clock = system_clock());

  const char* name() const override { return "exec"; }
  CloudResult<HolderStatus> status() override;
  ClaimReport claim() override;

  const ExecProviderOptions& options() const { return options_; }

 private:
  util::SubprocessResult run(const char* action, Millis timeout) const;
  // The failure of a run that did not succeed, typed per the contract.
  CloudError classify(const char* action, const util::SubprocessResult& r) const;
  void log(const std::string& line) const;
  double random();

  ExecProviderOptions options_;
  Clock& clock_;
  std::string ip_;  // options_.address as text
  std::mt19937_64 prng_;
};

}  // namespace failoverd::cloud
