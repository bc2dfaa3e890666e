#include "failoverd/health/exec_check.h"

#include <utility>

namespace failoverd::health {

ExecCheck::ExecCheck(config::ExecCheckSpec spec, std::chrono::microseconds timeout,
                     std::optional<RunAs> run_as)
    : spec_(std::move(spec)), timeout_(timeout), run_as_(std::move(run_as)) {}

CheckResult ExecCheck::run() {
  util::SubprocessOptions o;
  o.argv = spec_.command;
  o.run_as = run_as_;
  o.timeout = timeout_;
  o.max_output = kExecMaxOutput;
  const util::SubprocessResult p = util::run_subprocess(o);

  CheckResult r;
  r.ok = p.succeeded();
  r.duration = p.duration;
  r.detail = one_line(util::describe(p), 300);
  const std::string shown = one_line(p.output.text, kExecMaxOutput);
  if (!shown.empty()) r.detail += ": " + shown;
  if (p.output.truncated()) {
    r.detail += " [" + std::to_string(p.output.total) + " bytes of output in all]";
  }
  return r;
}

}  // namespace failoverd::health
