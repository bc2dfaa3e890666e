#include "failoverd/daemon/virtual_ips.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

namespace failoverd::daemon {
namespace {

// Records every call as "add 10.0.0.100/24 dev eth1"; `present` is the interface's state.
class FakeAddressManager : public net::AddressManager {
 public:
  util::Expected<net::AddOutcome, std::string> add(const std::string& ifname,
                                                   const net::InterfaceAddress& a) override {
    calls.push_back("add " + a.to_string() + " dev " + ifname);
    if (fail_next) {
      fail_next = false;
      return util::unexpected(std::string("adding failed"));
    }
    if (!present.insert(a.to_string()).second) return net::AddOutcome::kAlreadyPresent;
    return net::AddOutcome::kAdded;
  }
  util::Expected<util::Ok, std::string> remove(const std::string& ifname,
                                               const net::InterfaceAddress& a) override {
    calls.push_back("del " + a.to_string() + " dev " + ifname);
    present.erase(a.to_string());
    return util::Ok{};
  }
  util::Expected<util::Ok, std::string> announce(const std::string& ifname,
                                                 util::Ipv4 address) override {
    calls.push_back("garp " + address.to_string() + " dev " + ifname);
    return util::Ok{};
  }
  std::vector<std::string> calls;
  std::set<std::string> present;
  bool fail_next = false;
};

const net::InterfaceAddress kVip1{util::Ipv4::from_octets(10, 0, 0, 100), 24};
const net::InterfaceAddress kVip2{util::Ipv4::from_octets(10, 0, 0, 101), 32};

TEST(VirtualIps, TakeAddsAndAnnouncesEveryAddress) {
  FakeAddressManager fake;
  VirtualIps vips(fake, "eth1", {kVip1, kVip2});
  auto events = vips.take();
  EXPECT_EQ(fake.calls, (std::vector<std::string>{"add 10.0.0.100/24 dev eth1",
                                                  "add 10.0.0.101/32 dev eth1",
                                                  "garp 10.0.0.100 dev eth1",
                                                  "garp 10.0.0.101 dev eth1"}));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].message, "added 10.0.0.100/24 to eth1");
}

TEST(VirtualIps, ReleaseRemovesOnlyWhatItAdded) {
  FakeAddressManager fake;
  fake.present.insert("10.0.0.101/32");  // an operator put this one there
  VirtualIps vips(fake, "eth1", {kVip1, kVip2});
  auto taken = vips.take();
  EXPECT_NE(taken[1].message.find("was already on eth1"), std::string::npos);
  fake.calls.clear();
  vips.release();
  EXPECT_EQ(fake.calls, (std::vector<std::string>{"del 10.0.0.100/24 dev eth1"}));
  EXPECT_EQ(fake.present, (std::set<std::string>{"10.0.0.101/32"}));
}

TEST(VirtualIps, AFailedAddIsReportedAndRetriedByTheNextTake) {
  FakeAddressManager fake;
  fake.fail_next = true;
  VirtualIps vips(fake, "eth1", {kVip1});
  auto events = vips.take();
  ASSERT_FALSE(events.empty());
  EXPECT_FALSE(events[0].ok);
  EXPECT_EQ(events[0].message, "adding failed");
  EXPECT_TRUE(vips.added().empty());
  vips.take();
  EXPECT_EQ(vips.added(), (std::vector<net::InterfaceAddress>{kVip1}));
}

TEST(VirtualIps, TakingTwiceDoesNotAddTwice) {
  FakeAddressManager fake;
  VirtualIps vips(fake, "eth1", {kVip1});
  vips.take();
  fake.calls.clear();
  vips.take();
  EXPECT_EQ(fake.calls, (std::vector<std::string>{"garp 10.0.0.100 dev eth1"}));
}

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("fo-vips-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    ledger_ = (dir_ / "web.sock.vips").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::string ledger_;
};

TEST_F(LedgerTest, ARestartRemovesWhatTheCrashedRunAdded) {
  FakeAddressManager fake;
  {
    VirtualIps crashed(fake, "eth1", {kVip1}, ledger_);
    crashed.take();  // and then the process dies without release()
  }
  ASSERT_TRUE(std::filesystem::exists(ledger_));
  fake.calls.clear();
  VirtualIps restarted(fake, "eth1", {kVip1}, ledger_);
  auto events = restarted.clean_up_previous_run();
  EXPECT_EQ(fake.calls, (std::vector<std::string>{"del 10.0.0.100/24 dev eth1"}));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].message,
            "removed 10.0.0.100/24 from eth1, left by a previous run that did not shut down");
  EXPECT_FALSE(std::filesystem::exists(ledger_));
}

TEST_F(LedgerTest, AResumeAfterACrashKeepsWhatTheCrashedRunAddedAndAddsWhatWentMissing) {
  FakeAddressManager fake;
  {
    VirtualIps crashed(fake, "eth1", {kVip1, kVip2}, ledger_);
    crashed.take();  // and then the process dies without release()
  }
  fake.present.erase(kVip2.to_string());  // someone removed one meanwhile
  fake.calls.clear();
  VirtualIps resumed(fake, "eth1", {kVip1, kVip2}, ledger_);
  auto events = resumed.resume_previous_run();
  EXPECT_EQ(fake.calls, (std::vector<std::string>{"add 10.0.0.100/24 dev eth1",
                                                  "add 10.0.0.101/32 dev eth1"}));
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].message, "kept 10.0.0.100/24 on eth1 across the crash");
  EXPECT_EQ(events[1].message, "added 10.0.0.101/32 to eth1 again: it was gone");
  EXPECT_EQ(resumed.added().size(), 2U);
  // Both are still this run's: leaving MASTER removes them.
  fake.calls.clear();
  resumed.release();
  EXPECT_EQ(fake.calls, (std::vector<std::string>{"del 10.0.0.100/24 dev eth1",
                                                  "del 10.0.0.101/32 dev eth1"}));
}

TEST_F(LedgerTest, AnAddressThatWasAlreadyThereNeverEntersTheLedger) {
  FakeAddressManager fake;
  fake.present.insert("10.0.0.100/24");
  {
    VirtualIps first(fake, "eth1", {kVip1}, ledger_);
    first.take();
  }
  fake.calls.clear();
  VirtualIps second(fake, "eth1", {kVip1}, ledger_);
  second.clean_up_previous_run();
  EXPECT_TRUE(fake.calls.empty());
  EXPECT_TRUE(fake.present.count("10.0.0.100/24"));
}

TEST_F(LedgerTest, AGracefulReleaseLeavesNoLedger) {
  FakeAddressManager fake;
  VirtualIps vips(fake, "eth1", {kVip1}, ledger_);
  vips.take();
  vips.release();
  EXPECT_FALSE(std::filesystem::exists(ledger_));
}

TEST_F(LedgerTest, AMalformedLedgerLineIsReportedAndSkipped) {
  {
    std::ofstream(ledger_) << "not-an-address\n10.0.0.100/24\n";
  }
  FakeAddressManager fake;
  VirtualIps vips(fake, "eth1", {kVip1}, ledger_);
  auto events = vips.clean_up_previous_run();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_FALSE(events[0].ok);
  EXPECT_NE(events[0].message.find("malformed line"), std::string::npos);
  EXPECT_EQ(fake.calls, (std::vector<std::string>{"del 10.0.0.100/24 dev eth1"}));
}

}  // namespace
}  // namespace failoverd::daemon
