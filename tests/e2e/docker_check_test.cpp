// The docker check end to end: two failoverd daemons in two network namespaces, each counting
// its own project's containers in one real podman engine (tests/harness/podman.h). The engine's
// socket is a filesystem path, so daemons inside the namespaces reach it. Time bounds are
// end-to-end (check interval x fall, adverts, polling through failoverctl) with generous slack.
//
// Needs root, podman, runc and busybox-static; skipped with a message otherwise.
#include <gtest/gtest.h>

#include <iostream>
#include <memory>
#include <thread>

#include "harness/harness.h"
#include "harness/podman.h"

namespace failoverd::e2e {
namespace {

const char* const kVip = "10.99.0.100";
const char* const kProjectA = "com.docker.compose.project=proj-a";
const char* const kProjectB = "com.docker.compose.project=proj-b";

// Starting the engine (image import, service) costs seconds: one engine for the whole suite,
// a clean slate of containers per test.
class DockerCheckE2e : public TwoHostTest {
 protected:
  static void SetUpTestSuite() {
    if (PodmanEngine::unavailable_reason()) return;
    try {
      engine_ = std::make_unique<PodmanEngine>();
    } catch (const std::exception& e) {
      engine_error_ = e.what();
    }
  }
  static void TearDownTestSuite() { engine_.reset(); }

  void SetUp() override {
    if (auto why = PodmanEngine::unavailable_reason()) GTEST_SKIP() << *why;
    TwoHostTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(engine_) << "podman engine: " << engine_error_;
    ASSERT_NO_THROW(engine_->remove_all_containers());
    // Two containers per project: min_running = 2 passes exactly when both run.
    for (const char* c : {"a1", "a2"}) {
      ASSERT_NO_THROW(engine_->run_container(std::string("fod-") + c, {kProjectA}));
    }
    for (const char* c : {"b1", "b2"}) {
      ASSERT_NO_THROW(engine_->run_container(std::string("fod-") + c, {kProjectB}));
    }
  }

  void TearDown() override {
    if (HasFailure() && engine_) {
      std::cerr << "----- podman ps -a -----\n"
                << engine_->podman({"ps", "-a", "--format",
                                    "{{.Names}} {{.Status}} {{.Labels}}"})
                       .output;
    }
    TwoHostTest::TearDown();
  }

  // The [check.containers] section counting `label`'s containers; weight 0 when omitted.
  static std::string check_section(const std::string& label, int weight = 0) {
    std::string s = "[check.containers]\n"
                    "type = docker\n"
                    "socket = " + engine_->socket_path() + "\n"
                    "min_running = 2\n"
                    "label = " + label + "\n"
                    "interval = 300ms\n"
                    "timeout = 250ms\n"
                    "rise = 1\n"
                    "fall = 2\n";
    if (weight != 0) s += "weight = " + std::to_string(weight) + "\n";
    return s;
  }

  // node-a on host 0, node-b on host 1, sharing one virtual address.
  NodeConfig config(int host, const std::string& name, int priority, const std::string& extra) {
    NodeConfig c = node_config(host, name, priority);
    c.advert_interval = "100ms";
    c.virtual_ips = {std::string(kVip) + "/24"};
    c.extra = extra;
    return c;
  }

  // status()["checks"][0], or null when the node cannot be reached or has no check.
  static nlohmann::json first_check(const Node& n) {
    const auto s = n.status();
    if (!s || !s->contains("checks") || !(*s)["checks"].is_array() || (*s)["checks"].empty()) {
      return nullptr;
    }
    return (*s)["checks"][0];
  }

  // The check's result detail, or "" when the status has none.
  static std::string result_detail(const nlohmann::json& check) {
    if (!check.is_object() || !check.contains("detail") || !check["detail"].is_string()) return "";
    return check["detail"].get<std::string>();
  }

  static long long effective(const Node& n) {
    const auto s = n.status();
    return s ? json_int(*s, "effective_priority") : -1;
  }

  static std::unique_ptr<PodmanEngine> engine_;
  static std::string engine_error_;
};

std::unique_ptr<PodmanEngine> DockerCheckE2e::engine_;
std::string DockerCheckE2e::engine_error_;

TEST_F(DockerCheckE2e, MasterWhoseContainersStopGivesWayAndPreemptsWhenBack) {
  Node& a = start_node(config(0, "node-a", 150, check_section(kProjectA)));
  Node& b = start_node(config(1, "node-b", 100, check_section(kProjectB)));

  ASSERT_TRUE(a.wait_state("MASTER", 10s)) << "node-a: " << a.state();
  ASSERT_TRUE(b.wait_state("BACKUP", 10s)) << "node-b: " << b.state();
  EXPECT_TRUE(net().has_address(0, kVip));
  EXPECT_FALSE(net().has_address(1, kVip));

  // The status contract for a passing docker check.
  auto check = first_check(a);
  ASSERT_TRUE(check.is_object()) << check;
  EXPECT_EQ(check["name"], "containers");
  EXPECT_EQ(check["type"], "docker");
  EXPECT_EQ(check["ok"], true);
  EXPECT_EQ(result_detail(check),
            "2 containers running, 2 required (label " + std::string(kProjectA) + ")");
  EXPECT_EQ(effective(a), 150);  // weight 0: a passing check does not move the priority

  // One of node-a's containers stops: node-a FAULT (after fall x interval), node-b takes over.
  const auto b_masters = b.transitions_to("MASTER");  // 1 if it won a start-up race
  const auto stopped_at = Clock::now();
  ASSERT_NO_THROW(engine_->stop_container("fod-a1"));
  const auto fault = a.wait_state("FAULT", 10s);
  ASSERT_TRUE(fault) << "node-a: " << a.state();
  ASSERT_TRUE(b.wait_state("MASTER", 10s)) << "node-b: " << b.state();
  const auto moved = Clock::now() - stopped_at;
  std::cerr << "container stopped -> node-a FAULT and node-b MASTER in " << seconds(moved)
            << " s\n";
  EXPECT_TRUE(wait_until([&] { return net().has_address(1, kVip); }, 5s));
  EXPECT_TRUE(wait_until([&] { return !net().has_address(0, kVip); }, 5s));
  auto failing = first_check(a);
  EXPECT_EQ(failing["ok"], false) << failing;
  EXPECT_EQ(result_detail(failing),
            "1 of 2 required containers running (label " + std::string(kProjectA) + ")");

  // It runs again: node-a rejoins and, with preempt, takes the address back.
  ASSERT_NO_THROW(engine_->start_container("fod-a1"));
  ASSERT_TRUE(a.wait_state("MASTER", 10s)) << "node-a: " << a.state();
  ASSERT_TRUE(b.wait_state("BACKUP", 10s)) << "node-b: " << b.state();
  EXPECT_TRUE(wait_until([&] { return net().has_address(0, kVip); }, 5s));
  EXPECT_TRUE(wait_until([&] { return !net().has_address(1, kVip); }, 5s));
  EXPECT_EQ(first_check(a)["ok"], true);
  EXPECT_EQ(b.transitions_to("MASTER"), b_masters + 1);
}

TEST_F(DockerCheckE2e, NodeWhoseContainersAreDownAtStartNeverBecomesMaster) {
  ASSERT_NO_THROW(engine_->stop_container(std::vector<std::string>{"fod-a1", "fod-a2"}));
  // node-a would win the election on priority, but its service is down from the start.
  Node& a = start_node(config(0, "node-a", 150, check_section(kProjectA)));
  Node& b = start_node(config(1, "node-b", 100, check_section(kProjectB)));

  ASSERT_TRUE(b.wait_state("MASTER", 10s)) << "node-b: " << b.state();
  ASSERT_TRUE(a.wait_state("FAULT", 10s)) << "node-a: " << a.state();
  // Several check intervals and many adverts later, still so.
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(a.state(), "FAULT");
  EXPECT_EQ(b.state(), "MASTER");
  EXPECT_EQ(a.transitions_to("MASTER"), 0u) << "node-a was MASTER with its containers down";
  EXPECT_FALSE(net().has_address(0, kVip));
  EXPECT_TRUE(net().has_address(1, kVip));
  auto check = first_check(a);
  EXPECT_EQ(check["ok"], false) << check;
  EXPECT_EQ(result_detail(check),
            "0 of 2 required containers running (label " + std::string(kProjectA) + ")");

  // The service comes up: node-a joins and preempts.
  ASSERT_NO_THROW(engine_->start_container(std::vector<std::string>{"fod-a1", "fod-a2"}));
  ASSERT_TRUE(a.wait_state("MASTER", 10s)) << "node-a: " << a.state();
  ASSERT_TRUE(b.wait_state("BACKUP", 10s)) << "node-b: " << b.state();
}

TEST_F(DockerCheckE2e, WeightMovesTheEffectivePriority) {
  // node-a: 150, no checks. node-b: 100 + 60 while its containers run = 160, so it wins.
  Node& a = start_node(config(0, "node-a", 150, ""));
  Node& b = start_node(config(1, "node-b", 100, check_section(kProjectB, 60)));

  ASSERT_TRUE(b.wait_state("MASTER", 10s)) << "node-b: " << b.state();
  ASSERT_TRUE(a.wait_state("BACKUP", 10s)) << "node-a: " << a.state();
  EXPECT_TRUE(wait_until([&] { return effective(b) == 160; }, 5s)) << effective(b);
  const auto sb = b.status();
  ASSERT_TRUE(sb);
  EXPECT_EQ(json_int(*sb, "priority"), 100);
  EXPECT_EQ(json_int(*sb, "effective_priority"), 160);
  EXPECT_EQ(first_check(b)["ok"], true);
  EXPECT_EQ(effective(a), 150);
  EXPECT_TRUE(wait_until([&] { return net().has_address(1, kVip); }, 5s));

  // One of proj-b's containers stops: 100 < 150, node-a preempts. A weighted check never
  // means FAULT.
  ASSERT_NO_THROW(engine_->stop_container("fod-b1"));
  ASSERT_TRUE(a.wait_state("MASTER", 10s)) << "node-a: " << a.state();
  ASSERT_TRUE(b.wait_state("BACKUP", 10s)) << "node-b: " << b.state();
  EXPECT_EQ(effective(b), 100);
  EXPECT_EQ(first_check(b)["ok"], false);
  EXPECT_EQ(b.transitions_to("FAULT"), 0u);
  EXPECT_TRUE(wait_until([&] { return net().has_address(0, kVip); }, 5s));
  EXPECT_TRUE(wait_until([&] { return !net().has_address(1, kVip); }, 5s));

  // Back: 160 again, node-b preempts.
  ASSERT_NO_THROW(engine_->start_container("fod-b1"));
  ASSERT_TRUE(b.wait_state("MASTER", 10s)) << "node-b: " << b.state();
  ASSERT_TRUE(a.wait_state("BACKUP", 10s)) << "node-a: " << a.state();
  EXPECT_EQ(effective(b), 160);
}

}  // namespace
}  // namespace failoverd::e2e
