// Prometheus metrics: a plain snapshot of the daemon's counters and gauges, and its rendering
// in the Prometheus text exposition format 0.0.4. Pure: the daemon fills a Metrics on its loop
// thread and the metrics server (metrics/metrics_server.h) sends the text.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace failoverd::metrics {

// The Content-Type header value of the text format format_metrics() produces.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

struct CheckMetrics {
  std::string name;  // label check=
  std::string type;  // label type= (only on failoverd_check_healthy)
  bool healthy = false;
  double last_duration_seconds = 0;
  std::uint64_t runs = 0;
  std::uint64_t failures = 0;
};

struct Metrics {
  // Label instance_name= on every series. Not `instance`: Prometheus sets that one itself (the
  // scraped host:port) and would rename ours to exported_instance.
  std::string instance;
  // INIT BACKUP MASTER FAULT: failoverd_state{state=...} is 1 for this one, 0 for the others.
  std::string state;
  int priority = 0;
  int effective_priority = 0;
  bool maintenance = false;
  // failoverd_transitions_total{to=...}: the four states always (0 if absent), plus any other
  // key. Should the map account for fewer than `transitions`, the rest is reported as
  // to="unknown", so that sum(failoverd_transitions_total) == transitions.
  std::uint64_t transitions = 0;
  std::map<std::string, std::uint64_t> transitions_to;
  std::uint64_t adverts_sent = 0;
  std::uint64_t adverts_received = 0;
  std::uint64_t advert_send_errors = 0;
  std::map<std::string, std::uint64_t> drops;  // reason (proto::to_string) -> count
  std::vector<CheckMetrics> checks;
  std::uint64_t claim_attempts = 0;
  std::uint64_t claim_successes = 0;
  std::uint64_t claim_failures = 0;
  double last_claim_latency_seconds = 0;
  std::uint64_t hook_runs = 0;
  std::uint64_t hook_failures = 0;
  std::uint64_t hook_timeouts = 0;
  // The event loop never waits for the log stream: lines it could not queue are counted here.
  std::uint64_t log_lines_dropped = 0;
  // A realtime loop that hit RLIMIT_RTTIME's soft limit runs at normal priority from then on.
  std::uint64_t realtime_demotions = 0;
  double uptime_seconds = 0;
};

// The whole exposition: "# HELP" and "# TYPE" once per family (also for a family with no
// series, e.g. no checks configured), every series labelled instance_name="...", lines ending in
// '\n'. Label values are escaped (\\, \", \n) and invalid UTF-8 is replaced by U+FFFD, so any
// name yields a scrape Prometheus accepts.
std::string format_metrics(const Metrics& m);

// Helpers, exposed for tests.
// A label value as it goes between the quotes.
std::string escape_label_value(std::string_view value);
// A sample value: integers without a fraction, the shortest round-trip form otherwise,
// "NaN", "+Inf", "-Inf".
std::string format_sample_value(double value);

}  // namespace failoverd::metrics
