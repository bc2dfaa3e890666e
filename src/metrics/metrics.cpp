#include "failoverd/metrics/metrics.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <utility>

#include "failoverd/util/utf8.h"

namespace failoverd::metrics {

namespace {

constexpr std::array<std::string_view, 4> kStates = {"INIT", "BACKUP", "MASTER", "FAULT"};

using Label = std::pair<std::string_view, std::string_view>;

class Writer {
 public:
  explicit Writer(std::string_view instance) : instance_(instance) {}

  // HELP texts are constants without '\\' or newlines: no escaping needed.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  }

  void sample(std::string_view name, std::initializer_list<Label> labels, std::string_view value) {
    out_.append(name).append("{instance_name=\"").append(escape_label_value(instance_)).append("\"");
    for (const auto& [key, val] : labels)
      out_.append(",").append(key).append("=\"").append(escape_label_value(val)).append("\"");
    out_.append("} ").append(value).append("\n");
  }
  void sample(std::string_view name, std::initializer_list<Label> labels, std::uint64_t value) {
    sample(name, labels, std::string_view(std::to_string(value)));
  }
  void sample(std::string_view name, std::initializer_list<Label> labels, double value) {
    sample(name, labels, std::string_view(format_sample_value(value)));
  }
  void sample(std::string_view name, std::initializer_list<Label> labels, int value) {
    sample(name, labels, std::string_view(std::to_string(value)));
  }

  // A family with one unlabelled (but for instance) series.
  template <typename T>
  void single(std::string_view name, std::string_view type, std::string_view help, T value) {
    family(name, type, help);
    sample(name, {}, value);
  }

  std::string take() { return std::move(out_); }

 private:
  std::string_view instance_;
  std::string out_;
};

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size();) {
    const char c = value[i];
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      const std::size_t len = util::utf8_sequence_length(value, i);
      if (len == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD for one invalid byte
        ++i;
        continue;
      }
      out.append(value.substr(i, len));
      i += len;
      continue;
    }
    ++i;
  }
  return out;
}

std::string format_sample_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  std::array<char, 64> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  if (ec != std::errc()) return "NaN";  // cannot happen with 64 bytes
  return std::string(buf.data(), end);
}

std::string format_metrics(const Metrics& m) {
  Writer w(m.instance);
  const std::uint64_t one = 1, zero = 0;

  w.family("failoverd_state", "gauge", "1 for the current VRRP state, 0 for the others.");
  bool known_state = false;
  for (const auto state : kStates) {
    known_state = known_state || state == m.state;
    w.sample("failoverd_state", {{"state", state}}, state == m.state ? one : zero);
  }
  if (!known_state) w.sample("failoverd_state", {{"state", m.state}}, one);

  w.single("failoverd_priority", "gauge", "Configured VRRP priority.", m.priority);
  w.single("failoverd_effective_priority", "gauge",
           "Priority advertised now, after health checks and maintenance.", m.effective_priority);
  w.single("failoverd_maintenance", "gauge", "1 while maintenance mode is on.",
           m.maintenance ? one : zero);

  w.family("failoverd_transitions_total", "counter", "State transitions, by new state.");
  std::uint64_t accounted = 0;
  for (const auto state : kStates) {
    const auto it = m.transitions_to.find(std::string(state));
    w.sample("failoverd_transitions_total", {{"to", state}},
             it == m.transitions_to.end() ? zero : it->second);
  }
  for (const auto& [to, count] : m.transitions_to) {
    accounted += count;
    if (std::find(kStates.begin(), kStates.end(), to) == kStates.end())
      w.sample("failoverd_transitions_total", {{"to", to}}, count);
  }
  if (accounted < m.transitions && m.transitions_to.count("unknown") == 0)
    w.sample("failoverd_transitions_total", {{"to", "unknown"}}, m.transitions - accounted);

  w.single("failoverd_adverts_sent_total", "counter", "VRRP advertisements sent.", m.adverts_sent);
  w.single("failoverd_adverts_received_total", "counter",
           "VRRP advertisements received and accepted.", m.adverts_received);
  w.single("failoverd_advert_send_errors_total", "counter",
           "VRRP advertisements that could not be sent.", m.advert_send_errors);
  w.family("failoverd_adverts_dropped_total", "counter", "Received packets dropped, by reason.");
  for (const auto& [reason, count] : m.drops)
    w.sample("failoverd_adverts_dropped_total", {{"reason", reason}}, count);

  w.family("failoverd_check_healthy", "gauge", "1 if the health check passes, 0 if it fails.");
  for (const auto& c : m.checks)
    w.sample("failoverd_check_healthy", {{"check", c.name}, {"type", c.type}},
             c.healthy ? one : zero);
  w.family("failoverd_check_duration_seconds", "gauge", "Duration of the last check run.");
  for (const auto& c : m.checks)
    w.sample("failoverd_check_duration_seconds", {{"check", c.name}}, c.last_duration_seconds);
  w.family("failoverd_check_runs_total", "counter", "Health check runs.");
  for (const auto& c : m.checks)
    w.sample("failoverd_check_runs_total", {{"check", c.name}}, c.runs);
  w.family("failoverd_check_failures_total", "counter", "Health check runs that failed.");
  for (const auto& c : m.checks)
    w.sample("failoverd_check_failures_total", {{"check", c.name}}, c.failures);

  w.single("failoverd_claim_attempts_total", "counter", "Reserved IP claim attempts.",
           m.claim_attempts);
  w.single("failoverd_claim_successes_total", "counter", "Reserved IP claims that succeeded.",
           m.claim_successes);
  w.single("failoverd_claim_failures_total", "counter", "Reserved IP claims that failed.",
           m.claim_failures);
  w.single("failoverd_claim_latency_seconds", "gauge",
           "Duration of the last reserved IP claim, from request to confirmed.",
           m.last_claim_latency_seconds);

  w.single("failoverd_hook_runs_total", "counter", "Notify hook runs.", m.hook_runs);
  w.single("failoverd_hook_failures_total", "counter", "Notify hooks that exited non-zero.",
           m.hook_failures);
  w.single("failoverd_hook_timeouts_total", "counter", "Notify hooks killed at their timeout.",
           m.hook_timeouts);
  w.single("failoverd_log_lines_dropped_total", "counter",
           "Log lines dropped because the log stream did not keep up.", m.log_lines_dropped);
  w.single("failoverd_realtime_demotions_total", "counter",
           "Times the event loop used up its realtime CPU limit and was set to normal priority.",
           m.realtime_demotions);
  w.single("failoverd_uptime_seconds", "gauge", "Seconds since the daemon started.",
           m.uptime_seconds);
  return w.take();
}

}  // namespace failoverd::metrics
