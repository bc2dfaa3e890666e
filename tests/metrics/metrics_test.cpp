#include "failoverd/metrics/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace failoverd::metrics {
namespace {

Metrics sample_metrics() {
  Metrics m;
  m.instance = "web";
  m.state = "MASTER";
  m.priority = 150;
  m.effective_priority = 130;
  m.maintenance = false;
  m.transitions = 3;
  m.transitions_to = {{"BACKUP", 1}, {"MASTER", 2}};
  m.adverts_sent = 1200;
  m.adverts_received = 34;
  m.advert_send_errors = 2;
  m.drops = {{"bad_ttl", 5}, {"wrong_vrid", 7}};
  m.checks = {{"containers", "docker", true, 0.0125, 100, 1}, {"nginx", "http", false, 2, 100, 40}};
  m.claim_attempts = 4;
  m.claim_successes = 3;
  m.claim_failures = 1;
  m.last_claim_latency_seconds = 1.5;
  m.hook_runs = 6;
  m.hook_failures = 1;
  m.hook_timeouts = 0;
  m.log_lines_dropped = 12;
  m.realtime_demotions = 1;
  m.uptime_seconds = 3600.25;
  return m;
}

TEST(FormatMetrics, ExactTextForASample) {
  const std::string expected =
      "# HELP failoverd_state 1 for the current VRRP state, 0 for the others.\n"
      "# TYPE failoverd_state gauge\n"
      "failoverd_state{instance_name=\"web\",state=\"INIT\"} 0\n"
      "failoverd_state{instance_name=\"web\",state=\"BACKUP\"} 0\n"
      "failoverd_state{instance_name=\"web\",state=\"MASTER\"} 1\n"
      "failoverd_state{instance_name=\"web\",state=\"FAULT\"} 0\n"
      "# HELP failoverd_priority Configured VRRP priority.\n"
      "# TYPE failoverd_priority gauge\n"
      "failoverd_priority{instance_name=\"web\"} 150\n"
      "# HELP failoverd_effective_priority Priority advertised now, after health checks and "
      "maintenance.\n"
      "# TYPE failoverd_effective_priority gauge\n"
      "failoverd_effective_priority{instance_name=\"web\"} 130\n"
      "# HELP failoverd_maintenance 1 while maintenance mode is on.\n"
      "# TYPE failoverd_maintenance gauge\n"
      "failoverd_maintenance{instance_name=\"web\"} 0\n"
      "# HELP failoverd_transitions_total State transitions, by new state.\n"
      "# TYPE failoverd_transitions_total counter\n"
      "failoverd_transitions_total{instance_name=\"web\",to=\"INIT\"} 0\n"
      "failoverd_transitions_total{instance_name=\"web\",to=\"BACKUP\"} 1\n"
      "failoverd_transitions_total{instance_name=\"web\",to=\"MASTER\"} 2\n"
      "failoverd_transitions_total{instance_name=\"web\",to=\"FAULT\"} 0\n"
      "# HELP failoverd_adverts_sent_total VRRP advertisements sent.\n"
      "# TYPE failoverd_adverts_sent_total counter\n"
      "failoverd_adverts_sent_total{instance_name=\"web\"} 1200\n"
      "# HELP failoverd_adverts_received_total VRRP advertisements received and accepted.\n"
      "# TYPE failoverd_adverts_received_total counter\n"
      "failoverd_adverts_received_total{instance_name=\"web\"} 34\n"
      "# HELP failoverd_advert_send_errors_total VRRP advertisements that could not be sent.\n"
      "# TYPE failoverd_advert_send_errors_total counter\n"
      "failoverd_advert_send_errors_total{instance_name=\"web\"} 2\n"
      "# HELP failoverd_adverts_dropped_total Received packets dropped, by reason.\n"
      "# TYPE failoverd_adverts_dropped_total counter\n"
      "failoverd_adverts_dropped_total{instance_name=\"web\",reason=\"bad_ttl\"} 5\n"
      "failoverd_adverts_dropped_total{instance_name=\"web\",reason=\"wrong_vrid\"} 7\n"
      "# HELP failoverd_check_healthy 1 if the health check passes, 0 if it fails.\n"
      "# TYPE failoverd_check_healthy gauge\n"
      "failoverd_check_healthy{instance_name=\"web\",check=\"containers\",type=\"docker\"} 1\n"
      "failoverd_check_healthy{instance_name=\"web\",check=\"nginx\",type=\"http\"} 0\n"
      "# HELP failoverd_check_duration_seconds Duration of the last check run.\n"
      "# TYPE failoverd_check_duration_seconds gauge\n"
      "failoverd_check_duration_seconds{instance_name=\"web\",check=\"containers\"} 0.0125\n"
      "failoverd_check_duration_seconds{instance_name=\"web\",check=\"nginx\"} 2\n"
      "# HELP failoverd_check_runs_total Health check runs.\n"
      "# TYPE failoverd_check_runs_total counter\n"
      "failoverd_check_runs_total{instance_name=\"web\",check=\"containers\"} 100\n"
      "failoverd_check_runs_total{instance_name=\"web\",check=\"nginx\"} 100\n"
      "# HELP failoverd_check_failures_total Health check runs that failed.\n"
      "# TYPE failoverd_check_failures_total counter\n"
      "failoverd_check_failures_total{instance_name=\"web\",check=\"containers\"} 1\n"
      "failoverd_check_failures_total{instance_name=\"web\",check=\"nginx\"} 40\n"
      "# HELP failoverd_claim_attempts_total Reserved IP claim attempts.\n"
      "# TYPE failoverd_claim_attempts_total counter\n"
      "failoverd_claim_attempts_total{instance_name=\"web\"} 4\n"
      "# HELP failoverd_claim_successes_total Reserved IP claims that succeeded.\n"
      "# TYPE failoverd_claim_successes_total counter\n"
      "failoverd_claim_successes_total{instance_name=\"web\"} 3\n"
      "# HELP failoverd_claim_failures_total Reserved IP claims that failed.\n"
      "# TYPE failoverd_claim_failures_total counter\n"
      "failoverd_claim_failures_total{instance_name=\"web\"} 1\n"
      "# HELP failoverd_claim_latency_seconds Duration of the last reserved IP claim, from "
      "request to confirmed.\n"
      "# TYPE failoverd_claim_latency_seconds gauge\n"
      "failoverd_claim_latency_seconds{instance_name=\"web\"} 1.5\n"
      "# HELP failoverd_hook_runs_total Notify hook runs.\n"
      "# TYPE failoverd_hook_runs_total counter\n"
      "failoverd_hook_runs_total{instance_name=\"web\"} 6\n"
      "# HELP failoverd_hook_failures_total Notify hooks that exited non-zero.\n"
      "# TYPE failoverd_hook_failures_total counter\n"
      "failoverd_hook_failures_total{instance_name=\"web\"} 1\n"
      "# HELP failoverd_hook_timeouts_total Notify hooks killed at their timeout.\n"
      "# TYPE failoverd_hook_timeouts_total counter\n"
      "failoverd_hook_timeouts_total{instance_name=\"web\"} 0\n"
      "# HELP failoverd_log_lines_dropped_total Log lines dropped because the log stream did not "
      "keep up.\n"
      "# TYPE failoverd_log_lines_dropped_total counter\n"
      "failoverd_log_lines_dropped_total{instance_name=\"web\"} 12\n"
      "# HELP failoverd_realtime_demotions_total Times the event loop used up its realtime CPU "
      "limit and was set to normal priority.\n"
      "# TYPE failoverd_realtime_demotions_total counter\n"
      "failoverd_realtime_demotions_total{instance_name=\"web\"} 1\n"
      "# HELP failoverd_uptime_seconds Seconds since the daemon started.\n"
      "# TYPE failoverd_uptime_seconds gauge\n"
      "failoverd_uptime_seconds{instance_name=\"web\"} 3600.25\n";
  EXPECT_EQ(format_metrics(sample_metrics()), expected);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The family a line belongs to: "# HELP name ..." / "# TYPE name ..." / "name{...} v".
std::string family_of(const std::string& line) {
  if (line.rfind("# ", 0) == 0) {
    const auto start = line.find(' ', 2) + 1;
    return line.substr(start, line.find(' ', start) - start);
  }
  return line.substr(0, line.find('{'));
}

TEST(FormatMetrics, HelpAndTypeOncePerFamilyBeforeItsSamplesAndFamiliesContiguous) {
  Metrics m = sample_metrics();
  m.checks.push_back({"third", "tcp", true, 0.5, 1, 0});
  const std::string text = format_metrics(m);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  std::map<std::string, int> helps, types;
  std::vector<std::string> order;  // families in the order they start
  for (const auto& line : lines_of(text)) {
    ASSERT_FALSE(line.empty());
    const std::string family = family_of(line);
    if (order.empty() || order.back() != family) {
      ASSERT_EQ(std::count(order.begin(), order.end(), family), 0)
          << family << " appears in two places";
      order.push_back(family);
      EXPECT_EQ(line.rfind("# HELP " + family + " ", 0), 0u) << line;
    }
    if (line.rfind("# HELP ", 0) == 0) ++helps[family];
    if (line.rfind("# TYPE ", 0) == 0) {
      ++types[family];
      const bool counter = family.size() > 6 && family.substr(family.size() - 6) == "_total";
      EXPECT_EQ(line, "# TYPE " + family + (counter ? " counter" : " gauge"));
    }
  }
  EXPECT_EQ(order.size(), 23u);
  for (const auto& family : order) {
    EXPECT_EQ(helps[family], 1) << family;
    EXPECT_EQ(types[family], 1) << family;
  }
}

TEST(FormatMetrics, EveryFamilyIsDescribedEvenWithoutChecksOrDrops) {
  Metrics m;
  m.instance = "db";
  m.state = "INIT";
  const std::string text = format_metrics(m);
  EXPECT_NE(text.find("# TYPE failoverd_check_healthy gauge\n"
                      "# HELP failoverd_check_duration_seconds"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE failoverd_adverts_dropped_total counter\n# HELP "),
            std::string::npos);
  EXPECT_EQ(text.find("check=\""), std::string::npos);
  EXPECT_EQ(text.find("reason=\""), std::string::npos);
  EXPECT_NE(text.find("failoverd_state{instance_name=\"db\",state=\"INIT\"} 1\n"), std::string::npos);
  // Every sample line carries the instance label first.
  for (const auto& line : lines_of(text)) {
    if (line[0] != '#') {
      EXPECT_NE(line.find("{instance_name=\"db\""), std::string::npos) << line;
    }
  }
}

TEST(FormatMetrics, LabelValuesAreEscaped) {
  EXPECT_EQ(escape_label_value(R"(a\b"c)"), R"(a\\b\"c)");
  EXPECT_EQ(escape_label_value("line1\nline2"), "line1\\nline2");
  EXPECT_EQ(escape_label_value("tab\tstays"), "tab\tstays");
  EXPECT_EQ(escape_label_value("caf\xC3\xA9"), "caf\xC3\xA9");  // valid UTF-8 is kept
  EXPECT_EQ(escape_label_value(""), "");

  Metrics m = sample_metrics();
  m.instance = "we\"b";
  m.checks = {{"c:\\path\n2", "exec", true, 0, 0, 0}};
  const std::string text = format_metrics(m);
  EXPECT_NE(text.find("failoverd_check_healthy{instance_name=\"we\\\"b\",check=\"c:\\\\path\\n2\","
                      "type=\"exec\"} 1\n"),
            std::string::npos)
      << text;
  // No raw newline inside a sample line: every line still starts a family or a sample.
  for (const auto& line : lines_of(text))
    EXPECT_TRUE(line.rfind("# ", 0) == 0 || line.rfind("failoverd_", 0) == 0) << line;
}

TEST(FormatMetrics, InvalidUtf8InLabelsBecomesReplacementCharacters) {
  const std::string replacement = "\xEF\xBF\xBD";
  EXPECT_EQ(escape_label_value(std::string("a\xFF") + "b"), "a" + replacement + "b");
  EXPECT_EQ(escape_label_value("\xC3"), replacement);                    // truncated sequence
  EXPECT_EQ(escape_label_value("\xC0\xAF"), replacement + replacement);  // overlong '/'
  EXPECT_EQ(escape_label_value("\xED\xA0\x80"), replacement + replacement + replacement);
  EXPECT_EQ(escape_label_value("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");  // U+1F600 is fine
}

TEST(FormatMetrics, SampleValues) {
  EXPECT_EQ(format_sample_value(0), "0");
  EXPECT_EQ(format_sample_value(2), "2");
  EXPECT_EQ(format_sample_value(0.1), "0.1");
  EXPECT_EQ(format_sample_value(1e-6), "1e-06");
  EXPECT_EQ(format_sample_value(-0.5), "-0.5");
  EXPECT_EQ(format_sample_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(format_sample_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_sample_value(-std::numeric_limits<double>::infinity()), "-Inf");
  Metrics m = sample_metrics();
  m.adverts_sent = std::numeric_limits<std::uint64_t>::max();  // exact, not via double
  EXPECT_NE(format_metrics(m).find("failoverd_adverts_sent_total{instance_name=\"web\"} "
                                   "18446744073709551615\n"),
            std::string::npos);
}

TEST(FormatMetrics, UnknownStateIsShownBesideTheFourKnownOnes) {
  Metrics m = sample_metrics();
  m.state = "DISABLED";
  const std::string text = format_metrics(m);
  for (const char* s : {"INIT", "BACKUP", "MASTER", "FAULT"})
    EXPECT_NE(text.find("failoverd_state{instance_name=\"web\",state=\"" + std::string(s) + "\"} 0\n"),
              std::string::npos)
        << s;
  EXPECT_NE(text.find("failoverd_state{instance_name=\"web\",state=\"DISABLED\"} 1\n"),
            std::string::npos);
}

TEST(FormatMetrics, TransitionsSumToTheTotal) {
  Metrics m = sample_metrics();
  m.transitions = 10;
  m.transitions_to = {{"MASTER", 4}, {"BACKUP", 3}, {"STOPPED", 1}};
  const std::string text = format_metrics(m);
  EXPECT_NE(text.find("failoverd_transitions_total{instance_name=\"web\",to=\"STOPPED\"} 1\n"
                      "failoverd_transitions_total{instance_name=\"web\",to=\"unknown\"} 2\n"),
            std::string::npos)
      << text;

  m.transitions = 8;  // fully accounted for: no "unknown" series
  EXPECT_EQ(format_metrics(m).find("to=\"unknown\""), std::string::npos);
}

}  // namespace
}  // namespace failoverd::metrics
