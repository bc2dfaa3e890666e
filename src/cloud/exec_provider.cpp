#include "failoverd/cloud/exec_provider.h"

#include <algorithm>
#include <cerrno>
#include <utility>

#include "failoverd/util/text.h"
#include "provider_util.h"

namespace failoverd::cloud {

namespace {

using detail::ms_text;

// Printable for a log line: control bytes become '?', and the text is cut to `max_bytes` at a
// UTF-8 character boundary.
std::string printable(std::string_view s, std::size_t max_bytes) {
  bool cut = false;
  if (s.size() > max_bytes) {
    std::size_t end = max_bytes;
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
    s = s.substr(0, end);
    cut = true;
  }
  std::string out;
  out.reserve(s.size() + 3);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    out += c == '\t' ? ' ' : (c < 0x20 || c == 0x7f) ? '?' : ch;
  }
  if (cut) out += "...";
  return out;
}

// Errors a later run may not hit again: out of processes, descriptors or memory.
bool transient_errno(int e) {
  return e == EAGAIN || e == EMFILE || e == ENFILE || e == ENOMEM || e == EINTR;
}

}  // namespace

std::string last_line(std::string_view text, std::size_t max_bytes) {
  while (true) {
    const auto end = text.find_last_not_of(" \t\r\n");
    if (end == std::string_view::npos) return {};
    text = text.substr(0, end + 1);
    const auto nl = text.rfind('\n');
    const std::string_view line = util::trim(nl == std::string_view::npos ? text : text.substr(nl + 1));
    if (!line.empty()) return printable(line, max_bytes);
    // A first line of only \v or \f (trim() strips them, the search above does not).
    if (nl == std::string_view::npos) return {};
    text = text.substr(0, nl);
  }
}

util::Expected<HolderStatus, std::string> parse_exec_status(std::string_view stdout_text,
                                                            const std::string& self) {
  const std::string_view line = util::trim(stdout_text.substr(0, stdout_text.find('\n')));
  HolderStatus s;
  if (line == "ours") {
    s.ours = true;
    s.holder = self.empty() ? std::string("this node") : self;
    return s;
  }
  if (line == "none") return s;
  if (line.substr(0, 6) == "other " || line.substr(0, 6) == "other\t") {
    const std::string_view holder = util::trim(line.substr(6));
    const bool clean = std::none_of(holder.begin(), holder.end(), [](char ch) {
      const auto c = static_cast<unsigned char>(ch);
      return c < 0x20 || c == 0x7f;
    });
    if (!holder.empty() && holder.size() <= 200 && clean) {
      s.holder = std::string(holder);
      return s;
    }
  }
  if (line.empty()) {
    return util::unexpected(std::string("printed no first line (expected ours, none or other "
                                         "HOLDER)"));
  }
  return util::unexpected("printed \"" + printable(line, 80) +
                          "\" (expected ours, none or other HOLDER)");
}

Millis exec_retry_delay(int failed_runs, Millis initial, Millis max, double random) {
  Millis d = std::max(initial, Millis(1));
  for (int i = 1; i < failed_runs && d < max; ++i) d *= 2;
  d = std::min(d, std::max(max, Millis(1)));
  random = std::clamp(random, 0.0, 1.0);
  return d / 2 + Millis(static_cast<Millis::rep>(static_cast<double>(d.count() / 2) * random));
}

CloudResult<ExecProviderOptions> exec_provider_options(const config::ReservedIpConfig& cfg,
                                                       std::string instance) {
  const auto fail = detail::config_error;
  if (cfg.provider != config::Provider::kExec) return fail("[reserved_ip] provider is not exec");
  if (!cfg.address) return fail("[reserved_ip] address is not set");
  if (cfg.command.empty() || cfg.command.front().empty()) {
    return fail("[reserved_ip] command is not set");
  }
  ExecProviderOptions o;
  o.argv = cfg.command;
  o.address = *cfg.address;
  o.instance = std::move(instance);
  return o;
}

ExecProvider::ExecProvider(ExecProviderOptions options, Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      ip_(options_.address.to_string()),
      prng_(std::random_device{}()) {}

void ExecProvider::log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

double ExecProvider::random() {
  if (options_.random) return options_.random();
  return std::uniform_real_distribution<double>(0.0, 1.0)(prng_);
}

util::SubprocessResult ExecProvider::run(const char* action, Millis timeout) const {
  util::SubprocessOptions o;
  o.argv = options_.argv;
  o.argv.emplace_back(action);
  o.env = {{"FAILOVERD_ADDRESS", ip_},
           {"FAILOVERD_INSTANCE", options_.instance},
           {"FAILOVERD_ACTION", action}};
  o.timeout = timeout;
  o.max_output = kExecProviderMaxOutput;
  o.separate_stderr = true;
  return util::run_subprocess(o);
}

CloudError ExecProvider::classify(const char* action, const util::SubprocessResult& r) const {
  const bool claiming = std::string_view(action) == "claim";
  const std::string label = options_.argv.front() + " " + action + ": ";
  std::string what = util::describe(r);
  CloudErrorKind kind = claiming ? CloudErrorKind::kActionErrored : CloudErrorKind::kBadResponse;
  switch (r.outcome) {
    case util::SubprocessOutcome::kFailedToStart:
      kind = transient_errno(r.error_number) ? CloudErrorKind::kUnavailable
                                             : CloudErrorKind::kConfig;
      return {kind, label + what, std::nullopt};
    case util::SubprocessOutcome::kTimedOut:
      kind = CloudErrorKind::kUnavailable;
      break;
    case util::SubprocessOutcome::kExited:
      if (r.exit_code == kExecExitTempFail) {
        kind = CloudErrorKind::kUnavailable;
        what += " (EX_TEMPFAIL: unavailable)";
      } else if (r.exit_code == kExecExitNoPerm) {
        kind = CloudErrorKind::kAuth;
        what += " (EX_NOPERM: not authorised)";
      } else if (r.exit_code == kExecExitUsage && !claiming) {
        kind = CloudErrorKind::kUnavailable;
        what = "status is not implemented by the command (exit status 64, EX_USAGE)";
      }
      break;
    default:
      break;
  }
  const std::string reason = last_line(r.errors.text, kExecProviderMaxErrorLine);
  if (!reason.empty()) what += ": " + reason;
  return {kind, label + what, std::nullopt};
}

CloudResult<HolderStatus> ExecProvider::status() {
  if (options_.argv.empty() || options_.argv.front().empty()) {
    return util::unexpected(CloudError{CloudErrorKind::kConfig, "exec provider: no command",
                                       std::nullopt});
  }
  const util::SubprocessResult r = run("status", options_.call_timeout);
  if (!r.succeeded()) {
    CloudError e = classify("status", r);
    log(e.message);
    return util::unexpected(std::move(e));
  }
  auto parsed = parse_exec_status(r.output.text, options_.instance);
  if (!parsed) {
    CloudError e{CloudErrorKind::kBadResponse,
                 options_.argv.front() + " status: exit status 0 but " + parsed.error(),
                 std::nullopt};
    log(e.message);
    return util::unexpected(std::move(e));
  }
  return std::move(*parsed);
}

ClaimReport ExecProvider::claim() {
  detail::ClaimRun claim_run(clock_, options_.claim_deadline, "reserved IP " + ip_, "",
                             [this](const std::string& line) { log(line); });
  ClaimReport& report = claim_run.report;
  if (options_.argv.empty() || options_.argv.front().empty()) {
    return claim_run.fail({CloudErrorKind::kConfig, "exec provider: no command", std::nullopt});
  }
  auto count = [&] {
    return std::to_string(report.attempts) + (report.attempts == 1 ? " run" : " runs");
  };
  auto out_of_time = [&](const CloudError& last) {
    return claim_run.fail({CloudErrorKind::kDeadline,
                           "gave up after " + count() + " (claim deadline " +
                               ms_text(options_.claim_deadline) + "); last: " + last.message,
                           std::nullopt});
  };

  for (;;) {
    // Never past the deadline: the last run gets what is left of it.
    const auto left = std::chrono::duration_cast<Millis>(claim_run.deadline() - clock_.now());
    ++report.attempts;
    const util::SubprocessResult r =
        run("claim", std::max(Millis(1), std::min(options_.call_timeout, left)));
    if (r.succeeded()) {
      const std::string_view out = r.output.text;
      const bool held = util::trim(out.substr(0, out.find('\n'))) == "held";
      if (held)
        return claim_run.finish(ClaimOutcome::kAlreadyHeld, "already held (the command said held)");
      return claim_run.finish(ClaimOutcome::kClaimed,
                              "claimed by " + options_.argv.front() + " after " + count());
    }
    CloudError e = classify("claim", r);
    if (e.permanent()) return claim_run.fail(std::move(e));
    const Millis wait =
        exec_retry_delay(report.attempts, options_.retry_initial, options_.retry_max, random());
    if (clock_.now() + wait >= claim_run.deadline()) {
      log("claim run " + std::to_string(report.attempts) + ": " + e.message);
      return out_of_time(e);
    }
    log("claim run " + std::to_string(report.attempts) + ": " + e.message + "; retrying in " +
        ms_text(wait));
    clock_.sleep_for(wait);
  }
}

}  // namespace failoverd::cloud
