// The restart-in-place snapshot as JSON: a round trip gives the same value; anything else (not
// JSON, another version, another boot, a field of the wrong type) is a clear error.
#include "failoverd/node/snapshot_json.h"

#include <gtest/gtest.h>

namespace failoverd::node {
namespace {

using std::chrono::seconds;

constexpr const char* kBoot = "5f0c3f9e-1111-4222-8333-944455556666";

NodeSnapshot sample() {
  NodeSnapshot s;
  s.identity = {"web", "eth1", 51, {"10.0.0.100/24"}, "203.0.113.10"};
  s.instance.state = core::State::Master;
  s.instance.priority_delta = -20;
  s.instance.master_adver_interval = seconds(1);
  s.instance.adver_timer = core::Time{123456789};
  s.instance.preempt_allowed_at = core::Time{42};
  s.instance.master = util::Ipv4::from_octets(10, 0, 0, 3);
  s.instance.started = true;
  s.instance.fault_reason = "no fault left";
  s.source = util::Ipv4::from_octets(10, 0, 0, 2);
  s.garp_at = core::Time{5};
  s.garp_left = 2;
  s.verdict.priority_delta = -20;
  s.verdict.fault_reason = "check web: 1 of 2 passes";
  s.link_problem = "eth2 is down";
  s.joined = true;
  s.transitions = 2;
  s.transitions_to = {{"BACKUP", 1}, {"MASTER", 1}};
  s.adverts_received = 77;
  s.history.push_back({std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000)),
                       core::State::Initialize, core::State::Backup, "started", std::nullopt});
  s.history.push_back({std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'004)),
                       core::State::Backup, core::State::Master, "no advertisement",
                       std::string("claimed in 80 ms")});
  ReservedIpSnapshot r;
  r.policy.master = true;
  r.policy.next_check = core::Time{99};
  r.policy.foreign = "droplet 2";
  r.policy.foreign_since = core::Time{7};
  r.backoff_failures = 1;
  r.backoff_last = std::chrono::milliseconds(1000);
  r.started = true;
  r.master = true;
  r.check_pending = true;
  r.holder = "this node";
  r.last_claim = "2026-12-03T17:00:00Z";
  r.counters = {3, 2, 1, std::chrono::milliseconds(80)};
  s.reserved_ip = r;
  return s;
}

TEST(SnapshotJson, ARoundTripGivesTheSameSnapshot) {
  const NodeSnapshot s = sample();
  const std::string text = format_snapshot({s, kBoot});
  auto back = parse_snapshot(text, kBoot);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->boot_id, kBoot);
  EXPECT_EQ(back->node, s);

  NodeSnapshot bare;  // no reserved IP, no master, nothing optional
  bare.identity = {"x", "eth0", 1, {}, ""};
  bare.instance.master_adver_interval = seconds(1);
  auto back2 = parse_snapshot(format_snapshot({bare, kBoot}), kBoot);
  ASSERT_TRUE(back2) << back2.error();
  EXPECT_EQ(back2->node, bare);
}

TEST(SnapshotJson, BadInputIsAClearErrorNeverAGuess) {
  const std::string good = format_snapshot({sample(), kBoot});
  const auto error = [](std::string_view text, std::string_view boot = kBoot) {
    auto r = parse_snapshot(text, boot);
    return r ? std::string("accepted") : r.error();
  };
  EXPECT_NE(error("").find("not JSON"), std::string::npos) << error("");
  EXPECT_NE(error(good.substr(0, good.size() / 2)).find("not JSON"), std::string::npos);
  EXPECT_NE(error("[1,2]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(error("{}").find("not a failoverd snapshot"), std::string::npos);
  EXPECT_NE(error(std::string(70, '[') + std::string(70, ']')).find("deeper"), std::string::npos);
  EXPECT_NE(error(std::string(kMaxSnapshotBytes + 1, ' ')).find("larger"), std::string::npos);

  auto j = nlohmann::json::parse(good);
  j["failoverd_snapshot"] = kSnapshotVersion + 1;
  EXPECT_NE(error(j.dump()).find("version 2"), std::string::npos) << error(j.dump());

  EXPECT_NE(error(good, "another-boot").find("another boot"), std::string::npos);
  EXPECT_NE(error(good, "").find("another boot"), std::string::npos);

  j = nlohmann::json::parse(good);
  j["instance"]["state"] = "LEADER";
  EXPECT_NE(error(j.dump()).find("\"instance.state\""), std::string::npos) << error(j.dump());
  j = nlohmann::json::parse(good);
  j["instance"].erase("adver_timer_us");
  EXPECT_NE(error(j.dump()).find("\"instance.adver_timer_us\" is missing"), std::string::npos)
      << error(j.dump());
  j = nlohmann::json::parse(good);
  j["transitions"] = -1;
  EXPECT_NE(error(j.dump()).find("\"transitions\""), std::string::npos) << error(j.dump());
  j = nlohmann::json::parse(good);
  j["source"] = "10.0.0.300";
  EXPECT_NE(error(j.dump()).find("IPv4"), std::string::npos) << error(j.dump());
  j = nlohmann::json::parse(good);
  j["instance"]["master_adver_interval_us"] = 0;
  EXPECT_NE(error(j.dump()).find("positive"), std::string::npos) << error(j.dump());
  j = nlohmann::json::parse(good);
  j["history"] = nlohmann::json::array();
  for (int i = 0; i < 101; ++i) j["history"].push_back(nlohmann::json::parse(good)["history"][0]);
  EXPECT_NE(error(j.dump()).find("at most 100"), std::string::npos) << error(j.dump());
}

}  // namespace
}  // namespace failoverd::node
