#include "failoverd/daemon/hook_runner.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <utility>

#include <boost/asio/post.hpp>

#include "failoverd/util/duration.h"
#include "failoverd/util/subprocess.h"

namespace failoverd::daemon {

const char* to_string(HookEvent e) {
  switch (e) {
    case HookEvent::kMaster: return "MASTER";
    case HookEvent::kBackup: return "BACKUP";
    case HookEvent::kFault: return "FAULT";
    case HookEvent::kStop: return "STOP";
  }
  return "?";
}

const char* hook_name(HookEvent e) {
  switch (e) {
    case HookEvent::kMaster: return "master";
    case HookEvent::kBackup: return "backup";
    case HookEvent::kFault: return "fault";
    case HookEvent::kStop: return "stop";
  }
  return "?";
}

std::optional<HookEvent> hook_event(core::State s) {
  switch (s) {
    case core::State::Master: return HookEvent::kMaster;
    case core::State::Backup: return HookEvent::kBackup;
    case core::State::Fault: return HookEvent::kFault;
    case core::State::Initialize: return std::nullopt;
  }
  return std::nullopt;
}

namespace {

constexpr const char* kCleanPath = "/usr/sbin:/usr/bin:/sbin:/bin";

// The output as one log line: trimmed, newlines shown as "\n", other control bytes as '?'.
std::string one_line(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  std::string out;
  out.reserve(last - first + 16);
  for (std::size_t i = first; i <= last; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      out += c == '\t' ? ' ' : '?';
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

HookRunner::HookRunner(boost::asio::io_context& io, config::NotifyConfig notify,
                       std::string instance, std::shared_ptr<spdlog::logger> log)
    : io_(io),
      notify_(std::move(notify)),
      instance_(std::move(instance)),
      log_(std::move(log)),
      abort_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  worker_ = std::thread([this] { work(); });
}

HookRunner::~HookRunner() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    queue_.clear();
  }
  wake_.notify_all();
  if (abort_fd_.valid()) {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(abort_fd_.get(), &one, sizeof one);
  }
  worker_.join();
}

void HookRunner::set_on_run(OnRun on_run) {
  std::lock_guard lock(mu_);
  on_run_ = std::move(on_run);
}

void HookRunner::notify(HookEvent event, int priority,
                        std::map<std::string, std::string> extra_env) {
  const std::string* path = nullptr;
  switch (event) {
    case HookEvent::kMaster: path = &notify_.master; break;
    case HookEvent::kBackup: path = &notify_.backup; break;
    case HookEvent::kFault: path = &notify_.fault; break;
    case HookEvent::kStop: path = &notify_.stop; break;
  }
  if (path == nullptr || path->empty()) return;
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    queue_.push_back(Job{event, *path, priority, std::move(extra_env)});
  }
  wake_.notify_one();
}

void HookRunner::notify(core::State to, int priority,
                        std::map<std::string, std::string> extra_env) {
  if (auto event = hook_event(to)) notify(*event, priority, std::move(extra_env));
}

bool HookRunner::drain(std::chrono::milliseconds max) {
  std::unique_lock lock(mu_);
  return idle_.wait_for(lock, max, [this] { return queue_.empty() && !running_; });
}

std::vector<HookRun> HookRunner::history() const {
  std::lock_guard lock(mu_);
  return {history_.begin(), history_.end()};
}

HookCounters HookRunner::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

std::size_t HookRunner::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size() + (running_ ? 1 : 0);
}

void HookRunner::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) break;
      // Taken and marked running in one step, so drain() never sees "empty and idle" between.
      job = std::move(queue_.front());
      queue_.pop_front();
      running_ = true;
    }
    finish(run(job));
  }
  std::lock_guard lock(mu_);
  running_ = false;
  idle_.notify_all();
}

void HookRunner::finish(HookRun r) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(r.duration).count();
  std::string outcome;
  if (!r.error.empty()) {
    outcome = r.error;
  } else if (r.timed_out) {
    outcome = "killed after timeout " + util::format_duration(notify_.timeout);
  } else if (r.exit_code) {
    outcome = "exit status " + std::to_string(*r.exit_code);
  } else {
    outcome = "killed by " + util::signal_name(r.signal);
  }
  std::string line = "hook " + std::string(hook_name(r.event)) + " (" + r.path + " " +
                     instance_ + " " + to_string(r.event) + " " + std::to_string(r.priority) +
                     "): " + outcome + ", ran " + std::to_string(ms) + "ms";
  const std::string shown = one_line(r.output);
  if (!shown.empty()) line += "; output: " + shown;
  if (r.output_bytes > r.output.size()) {
    line += " [" + std::to_string(r.output_bytes) + " bytes of output in all]";
  }
  if (log_) log_->log(r.ok() ? spdlog::level::info : spdlog::level::warn, line);

  OnRun callback;
  {
    std::lock_guard lock(mu_);
    ++counters_.runs;
    if (!r.ok()) ++counters_.failures;
    if (r.timed_out) ++counters_.timeouts;
    history_.push_back(r);
    while (history_.size() > kHookHistory) history_.pop_front();
    callback = on_run_;
  }
  // A copy of the callback and of the run: nothing here touches `this` once it is posted.
  // Posted before the run counts as done, so after drain() the loop has it queued.
  if (callback) boost::asio::post(io_, [callback, r = std::move(r)] { callback(r); });
  {
    std::lock_guard lock(mu_);
    running_ = false;
  }
  idle_.notify_all();
}

HookRun HookRunner::run(const Job& job) {
  util::SubprocessOptions o;
  o.argv = {job.path, instance_, to_string(job.event), std::to_string(job.priority)};
  o.inherit_environment = false;  // a clean environment: the daemon's is not the hook's business
  o.env = job.env;
  o.env.try_emplace("PATH", kCleanPath);
  o.timeout = notify_.timeout;
  o.max_output = kHookMaxOutput;
  o.abort_fd = abort_fd_.get();
  util::SubprocessResult p = util::run_subprocess(o);

  HookRun r;
  r.event = job.event;
  r.path = job.path;
  r.priority = job.priority;
  r.duration = p.duration;
  r.output = std::move(p.output.text);
  r.output_bytes = p.output.total;
  switch (p.outcome) {
    case util::SubprocessOutcome::kExited: r.exit_code = p.exit_code; break;
    case util::SubprocessOutcome::kSignaled: r.signal = p.signal; break;
    case util::SubprocessOutcome::kTimedOut: r.timed_out = true; break;
    case util::SubprocessOutcome::kAborted: r.error = "killed: failoverd is shutting down"; break;
    case util::SubprocessOutcome::kFailedToStart:
    case util::SubprocessOutcome::kLost: r.error = std::move(p.error); break;
  }
  return r;
}

}  // namespace failoverd::daemon
