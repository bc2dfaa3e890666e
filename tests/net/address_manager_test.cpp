// The libnl address manager against a real interface in a network namespace.
#include "failoverd/net/address_manager.h"

#include <gtest/gtest.h>

#include "netns_fixture.h"

namespace failoverd::net {
namespace {

using failoverd::testing::NetnsTest;
using failoverd::testing::run_command;

constexpr const char* kIfA = failoverd::testing::NetnsPair::kIfA;
constexpr const char* kIfB = failoverd::testing::NetnsPair::kIfB;
const InterfaceAddress kVip{util::Ipv4::from_octets(10, 251, 77, 100), 24};

bool has_address(const std::string& ns, const std::string& text) {
  auto [status, out] = run_command("ip -n " + ns + " -4 -o addr show dev " + kIfA);
  return status == 0 && out.find("inet " + text + " ") != std::string::npos;
}

using AddressManagerTest = NetnsTest;

TEST_F(AddressManagerTest, AddsAndRemovesAnAddress) {
  net().in_a([&] {
    auto m = make_netlink_address_manager();
    auto added = m->add(kIfA, kVip);
    ASSERT_TRUE(added) << added.error();
    EXPECT_EQ(*added, AddOutcome::kAdded);
    EXPECT_TRUE(has_address(net().a(), "10.251.77.100/24"));
    ASSERT_TRUE(m->remove(kIfA, kVip));
    EXPECT_FALSE(has_address(net().a(), "10.251.77.100/24"));
  });
}

TEST_F(AddressManagerTest, AnAddressAlreadyThereIsReportedNotAdded) {
  failoverd::testing::must_run("ip -n " + net().a() + " addr add 10.251.77.100/24 dev " + kIfA);
  net().in_a([&] {
    auto m = make_netlink_address_manager();
    auto added = m->add(kIfA, kVip);
    ASSERT_TRUE(added) << added.error();
    EXPECT_EQ(*added, AddOutcome::kAlreadyPresent);
  });
}

TEST_F(AddressManagerTest, RemovingAnAbsentAddressSucceeds) {
  net().in_a([&] {
    auto m = make_netlink_address_manager();
    EXPECT_TRUE(m->remove(kIfA, kVip));
  });
}

TEST_F(AddressManagerTest, UnknownInterfaceIsAClearError) {
  net().in_a([&] {
    auto m = make_netlink_address_manager();
    auto added = m->add("nosuchif0", kVip);
    ASSERT_FALSE(added);
    EXPECT_EQ(added.error(), "10.251.77.100/24 on nosuchif0: no such interface");
    auto garp = m->announce("nosuchif0", kVip.address);
    ASSERT_FALSE(garp);
    EXPECT_EQ(garp.error(), "gratuitous ARP on nosuchif0: no such interface");
  });
}

TEST_F(AddressManagerTest, GratuitousArpTeachesThePeerTheAddress) {
  // Linux learns from an unsolicited ARP only with arp_accept; turn it on in B alone.
  failoverd::testing::must_run("ip netns exec " + net().b() + " sysctl -qw net.ipv4.conf." +
                               kIfB + ".arp_accept=1");
  auto [status, link] = run_command("ip -n " + net().a() + " -o link show dev " + kIfA);
  ASSERT_EQ(status, 0);
  const auto at = link.find("link/ether ");
  ASSERT_NE(at, std::string::npos) << link;
  const std::string mac_a = link.substr(at + 11, 17);
  net().in_a([&] {
    auto m = make_netlink_address_manager();
    ASSERT_TRUE(m->add(kIfA, kVip));
    auto garp = m->announce(kIfA, kVip.address);
    ASSERT_TRUE(garp) << garp.error();
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  std::string neigh;
  while (std::chrono::steady_clock::now() < deadline) {
    neigh = run_command("ip -n " + net().b() + " neigh show 10.251.77.100").second;
    if (neigh.find(mac_a) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(neigh.find(mac_a), std::string::npos) << "B's neighbour entry: " << neigh;
}

}  // namespace
}  // namespace failoverd::net
