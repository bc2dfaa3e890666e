// End-to-end helpers for split brain and cloud faults: cutting the heartbeats between the two
// namespaces while the rest of the traffic (the cloud API) still flows, and a fixture that
// runs the fake DigitalOcean API (tests/cloud/fake_do_api) in host 0's namespace, reachable
// from both hosts, with helpers to read its state and switch its faults.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/harness.h"

namespace failoverd::e2e {

// Drops heartbeats (VRRP, IP protocol 112, and UDP to the udp transport's port) on input in
// both namespaces with an nftables table of its own: a split, both ways. Other traffic is
// untouched. The destructor heals.
class HeartbeatCut {
 public:
  explicit HeartbeatCut(const NetnsPair& net, int udp_port = 5798);
  ~HeartbeatCut();
  HeartbeatCut(const HeartbeatCut&) = delete;
  HeartbeatCut& operator=(const HeartbeatCut&) = delete;

  void heal();
  bool active() const { return active_; }

 private:
  const NetnsPair& net_;
  bool active_ = false;
};

// Whether `nft` can be used here (root, nf_tables in the kernel).
bool nft_available();

struct FakeAssignmentRecord {
  long long droplet = -1;  // -1: unassigned
  long long at_unix_ms = 0;
};

// Two hosts and the fake DigitalOcean API in host 0's namespace at NetnsPair::address(0):8099.
// Droplet 1 is host 0, droplet 2 host 1; nobody holds the address at first.
class CloudTwoHostTest : public TwoHostTest {
 protected:
  static constexpr const char* kReservedIp = "203.0.113.10";

  void SetUp() override;
  void TearDown() override;

  // A node with [reserved_ip] on host `host` (droplet host + 1).
  NodeConfig cloud_node(int host, const std::string& name, int priority,
                        const std::string& reconcile_interval = "1s");

  std::string api_url() const;
  // GET / POST against the fake from host 0's namespace; "" when it fails.
  std::string api_get(const std::string& path);
  std::string api_post(const std::string& path, const std::string& json_body);
  // POST /_fake/faults with these switches (the keys of fake_digitalocean.h).
  bool set_faults(const nlohmann::json& faults);

  // The droplet that holds the address, or -1.
  long long holder();
  // Completed changes of the assignment, oldest first.
  std::vector<FakeAssignmentRecord> assignments();
  // Assign POSTs the fake received (successful or not).
  std::size_t assign_requests();

  std::unique_ptr<Process> api_;
};

}  // namespace failoverd::e2e
