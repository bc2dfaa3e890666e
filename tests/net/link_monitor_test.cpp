// Link tracking: LinkTable from hand-built rtnetlink messages, LinkMonitor against real links
// in a network namespace (changed with `ip`, observed through the monitor's own events).
#include "failoverd/net/link_monitor.h"

#include <gtest/gtest.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <ostream>

#include "netns_fixture.h"

namespace failoverd::net {

// Readable failures (found by argument-dependent lookup, so outside the unnamed namespace).
void PrintTo(const LinkState& s, std::ostream* os) {
  *os << "{" << s.ifname << (s.exists ? " exists" : " absent") << (s.up ? " up" : " down")
      << (s.has_ipv4 ? " ipv4" : " no-ipv4") << "}";
}

namespace {

using failoverd::testing::must_run;
using failoverd::testing::NetnsTest;

constexpr const char* kIfA = failoverd::testing::NetnsPair::kIfA;
constexpr const char* kIfB = failoverd::testing::NetnsPair::kIfB;

// ---------------------------------------------------------------------------------------------
// LinkTable

class MessageBuilder {
 public:
  MessageBuilder(std::uint16_t type, const void* body, std::size_t size) {
    bytes_.resize(sizeof(nlmsghdr));
    append(body, size);
    nlmsghdr hdr{};
    hdr.nlmsg_type = type;
    std::memcpy(bytes_.data(), &hdr, sizeof hdr);
  }
  MessageBuilder& attr(std::uint16_t type, const void* data, std::size_t size) {
    rtattr a{};
    a.rta_type = type;
    a.rta_len = static_cast<unsigned short>(sizeof(rtattr) + size);
    append(&a, sizeof a);
    append(data, size);
    return *this;
  }
  MessageBuilder& name(const std::string& n) { return attr(IFLA_IFNAME, n.c_str(), n.size() + 1); }
  std::vector<std::uint8_t> done() {
    const auto len = static_cast<std::uint32_t>(bytes_.size());
    std::memcpy(bytes_.data(), &len, sizeof len);  // nlmsg_len comes first
    return bytes_;
  }

 private:
  void append(const void* data, std::size_t size) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    bytes_.insert(bytes_.end(), p, p + size);
    bytes_.resize((bytes_.size() + 3) & ~std::size_t{3});
  }
  std::vector<std::uint8_t> bytes_;
};

constexpr unsigned kUpRunning = IFF_UP | IFF_RUNNING;

std::vector<std::uint8_t> link_msg(std::uint16_t type, int index, const std::string& name,
                                   unsigned flags, unsigned char family = AF_UNSPEC) {
  ifinfomsg info{};
  info.ifi_family = family;
  info.ifi_index = index;
  info.ifi_flags = flags;
  return MessageBuilder(type, &info, sizeof info).name(name).done();
}

std::vector<std::uint8_t> addr_msg(std::uint16_t type, int index, std::uint32_t address) {
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  ifa.ifa_prefixlen = 24;
  ifa.ifa_index = static_cast<std::uint32_t>(index);
  return MessageBuilder(type, &ifa, sizeof ifa).attr(IFA_LOCAL, &address, 4).done();
}

void apply_ok(LinkTable& t, const std::vector<std::uint8_t>& m) {
  auto r = t.apply(m);
  ASSERT_TRUE(r) << r.error();
}

TEST(LinkMonitorTable, UpNeedsBothUpAndRunning) {
  LinkTable t;
  apply_ok(t, link_msg(RTM_NEWLINK, 3, "eth1", IFF_UP));  // up, no carrier
  EXPECT_EQ(t.state("eth1"), (LinkState{"eth1", true, false, false}));
  apply_ok(t, link_msg(RTM_NEWLINK, 3, "eth1", kUpRunning));
  EXPECT_EQ(t.state("eth1"), (LinkState{"eth1", true, true, false}));
  EXPECT_EQ(t.state("eth2"), (LinkState{"eth2", false, false, false}));
}

TEST(LinkMonitorTable, AddressesComeAndGo) {
  LinkTable t;
  apply_ok(t, link_msg(RTM_NEWLINK, 3, "eth1", kUpRunning));
  apply_ok(t, addr_msg(RTM_NEWADDR, 3, 0x0100000a));
  apply_ok(t, addr_msg(RTM_NEWADDR, 3, 0x0200000a));
  apply_ok(t, addr_msg(RTM_DELADDR, 3, 0x0100000a));
  EXPECT_TRUE(t.state("eth1").has_ipv4);
  apply_ok(t, addr_msg(RTM_DELADDR, 3, 0x0200000a));
  EXPECT_FALSE(t.state("eth1").has_ipv4);
}

TEST(LinkMonitorTable, RenameMovesTheNameAndKeepsAddresses) {
  LinkTable t;
  apply_ok(t, link_msg(RTM_NEWLINK, 3, "eth1", kUpRunning));
  apply_ok(t, addr_msg(RTM_NEWADDR, 3, 0x0100000a));
  apply_ok(t, link_msg(RTM_NEWLINK, 3, "wan0", kUpRunning));
  EXPECT_FALSE(t.state("eth1").exists);
  EXPECT_EQ(t.state("wan0"), (LinkState{"wan0", true, true, true}));
}

TEST(LinkMonitorTable, RecreatedLinkIsTrackedByName) {
  LinkTable t;
  apply_ok(t, link_msg(RTM_NEWLINK, 3, "eth1", kUpRunning));
  apply_ok(t, addr_msg(RTM_NEWADDR, 3, 0x0100000a));
  apply_ok(t, link_msg(RTM_DELLINK, 3, "eth1", 0));
  EXPECT_FALSE(t.state("eth1").exists);
  apply_ok(t, link_msg(RTM_NEWLINK, 9, "eth1", kUpRunning));
  EXPECT_EQ(t.state("eth1"), (LinkState{"eth1", true, true, false}));  // old address is gone
  EXPECT_EQ(t.link_count(), 1u);
}

TEST(LinkMonitorTable, StaleMessagesReplayedOnADumpConverge) {
  // The dump already shows eth1 re-created as ifindex 9; the queue still holds the events
  // that led there: the old link 3 coming up, then deleted, then 9 created.
  LinkTable t;
  apply_ok(t, link_msg(RTM_NEWLINK, 9, "eth1", kUpRunning));
  apply_ok(t, addr_msg(RTM_NEWADDR, 9, 0x0100000a));
  apply_ok(t, link_msg(RTM_NEWLINK, 3, "eth1", IFF_UP));
  apply_ok(t, link_msg(RTM_DELLINK, 3, "eth1", 0));
  EXPECT_EQ(t.state("eth1"), (LinkState{"eth1", true, true, true}));
  apply_ok(t, link_msg(RTM_NEWLINK, 9, "eth1", kUpRunning));
  EXPECT_EQ(t.state("eth1"), (LinkState{"eth1", true, true, true}));
  EXPECT_EQ(t.link_count(), 1u);
}

TEST(LinkMonitorTable, BridgePortMessagesDoNotDeleteTheLink) {
  LinkTable t;
  apply_ok(t, link_msg(RTM_NEWLINK, 3, "eth1", kUpRunning));
  apply_ok(t, link_msg(RTM_DELLINK, 3, "eth1", 0, AF_BRIDGE));
  EXPECT_TRUE(t.state("eth1").exists);
}

TEST(LinkMonitorTable, MalformedMessagesAreErrorsAndChangeNothing) {
  LinkTable t;
  apply_ok(t, link_msg(RTM_NEWLINK, 3, "eth1", kUpRunning));
  const std::vector<std::uint8_t> tiny{1, 2, 3};
  auto r = t.apply(tiny);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "netlink message of 3 bytes is shorter than its header");

  auto lying = link_msg(RTM_NEWLINK, 3, "eth1", 0);
  lying[0] = 0xff;  // nlmsg_len beyond the buffer
  r = t.apply(lying);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("does not fit"), std::string::npos) << r.error();

  ifinfomsg info{};
  info.ifi_index = 3;
  auto no_name = MessageBuilder(RTM_NEWLINK, &info, sizeof info).done();
  r = t.apply(no_name);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "link 3 has no name");

  const char unterminated[4] = {'e', 't', 'h', '1'};
  r = t.apply(MessageBuilder(RTM_NEWLINK, &info, sizeof info)
                  .attr(IFLA_IFNAME, unterminated, sizeof unterminated)
                  .done());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "link 3 has a bad name");

  auto bad_attr = link_msg(RTM_NEWLINK, 3, "eth1", 0);
  bad_attr[sizeof(nlmsghdr) + sizeof(ifinfomsg)] = 200;  // rta_len past the end
  r = t.apply(bad_attr);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("attribute 3 has length 200"), std::string::npos) << r.error();

  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  ifa.ifa_index = 3;
  r = t.apply(MessageBuilder(RTM_NEWADDR, &ifa, sizeof ifa).done());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "address on link 3 has no IPv4 address attribute");

  EXPECT_EQ(t.state("eth1"), (LinkState{"eth1", true, true, false}));
}

// ---------------------------------------------------------------------------------------------
// LinkMonitor in a namespace

TEST(LinkMonitorArgs, InvalidNamesAreRejected) {
  EXPECT_THROW(LinkMonitor({}), std::runtime_error);
  EXPECT_THROW(LinkMonitor({""}), std::runtime_error);
  EXPECT_THROW(LinkMonitor({"eth0", "a-name-far-too-long"}), std::runtime_error);
  EXPECT_THROW(LinkMonitor({"bad name"}), std::runtime_error);
}

class LinkMonitorTest : public NetnsTest {
 protected:
  std::unique_ptr<LinkMonitor> make(std::vector<std::string> names) {
    return net().in_a([&] { return std::make_unique<LinkMonitor>(names); });
  }
  void ip(const std::string& args) { must_run("ip -n " + net().a() + " " + args); }
  // `ip link set NAME up`, then until the link reads UP with carrier: a monitor made earlier
  // would start from a dump that still says down.
  void set_up(const std::string& name) {
    ip("link set " + name + " up");
    failoverd::testing::NetnsPair::wait_until_up(net().a(), name);
  }
  // A spare link in namespace a, administratively down. A veth pair (the dummy driver may be
  // missing in containers) whose peer "<name>p" is up, so `name` has carrier once set up.
  void add_link(const std::string& name) {
    ip("link add " + name + " type veth peer name " + name + "p");
    ip("link set " + name + "p up");
  }

  // Processes events until `done` holds or 5 s pass (a bound, not an expectation); returns
  // every change reported meanwhile.
  std::vector<LinkState> wait_until(LinkMonitor& m, const std::function<bool()>& done) {
    std::vector<LinkState> seen;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        ADD_FAILURE() << "condition not reached within 5s; problem: "
                      << m.problem().value_or("none");
        break;
      }
      pollfd p{m.fd(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) > 0) {
        auto changes = m.process_events();
        seen.insert(seen.end(), changes.begin(), changes.end());
      }
    }
    return seen;
  }
  std::vector<LinkState> wait_for_problem(LinkMonitor& m, std::optional<std::string> want) {
    return wait_until(m, [&] { return m.problem() == want; });
  }
};

TEST_F(LinkMonitorTest, InitialStateIsUp) {
  auto m = make({kIfA, "lo"});
  ASSERT_EQ(m->states().size(), 2u);
  EXPECT_EQ(m->states()[0], (LinkState{kIfA, true, true, true}));
  EXPECT_EQ(m->states()[1], (LinkState{"lo", true, true, true}));
  EXPECT_EQ(m->problem(), std::nullopt);
  EXPECT_GE(m->fd(), 0);
  EXPECT_EQ(m->take_error(), std::nullopt);
}

TEST_F(LinkMonitorTest, LinkDownAndBackUp) {
  auto m = make({kIfA});
  ip(std::string("link set ") + kIfA + " down");
  auto seen = wait_for_problem(*m, "fo-a is down");
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), (LinkState{kIfA, true, false, true}));

  ip(std::string("link set ") + kIfA + " up");  // carrier returns: the peer fo-b is up
  seen = wait_for_problem(*m, std::nullopt);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), (LinkState{kIfA, true, true, true}));
}

TEST_F(LinkMonitorTest, LossOfCarrierIsDown) {
  auto m = make({kIfA});
  must_run("ip -n " + net().b() + " link set " + kIfB + " down");  // the far end of the veth
  wait_for_problem(*m, "fo-a is down");
  must_run("ip -n " + net().b() + " link set " + kIfB + " up");
  wait_for_problem(*m, std::nullopt);
}

TEST_F(LinkMonitorTest, HeartbeatInterfaceLosingItsAddress) {
  add_link("fo-trk");
  set_up("fo-trk");  // tracked, without an address: fine, the rule is for heartbeat
  auto m = make({kIfA, "fo-trk"});
  EXPECT_EQ(m->problem(), std::nullopt);

  ip(std::string("addr add 10.251.78.1/24 dev ") + kIfA);
  ip(std::string("addr del 10.251.77.1/24 dev ") + kIfA);
  ip("link set fo-trk down");  // a barrier: its event comes after the address events
  wait_for_problem(*m, "fo-trk is down");
  EXPECT_TRUE(m->states()[0].has_ipv4) << "one address left";
  ip("link set fo-trk up");
  wait_for_problem(*m, std::nullopt);

  ip(std::string("addr del 10.251.78.1/24 dev ") + kIfA);
  auto seen = wait_for_problem(*m, "fo-a has no IPv4 address");
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), (LinkState{kIfA, true, true, false}));

  ip(std::string("addr add 10.251.77.1/24 dev ") + kIfA);
  wait_for_problem(*m, std::nullopt);
  EXPECT_TRUE(m->states()[0].has_ipv4);
}

TEST_F(LinkMonitorTest, TrackedInterfaceCreatedDeletedRecreated) {
  auto m = make({kIfA, "fo-trk"});
  EXPECT_EQ(m->problem(), "fo-trk does not exist");
  EXPECT_EQ(m->states()[1], (LinkState{"fo-trk", false, false, false}));

  add_link("fo-trk");
  wait_for_problem(*m, "fo-trk is down");  // created administratively down
  ip("link set fo-trk up");
  wait_for_problem(*m, std::nullopt);

  ip("link del fo-trk");
  wait_for_problem(*m, "fo-trk does not exist");

  add_link("fo-trk");  // a new ifindex under the same name
  ip("link set fo-trk up");
  wait_for_problem(*m, std::nullopt);
  EXPECT_EQ(m->states()[1], (LinkState{"fo-trk", true, true, false}));
}

TEST_F(LinkMonitorTest, RenamedAwayAndBack) {
  add_link("fo-hb");
  ip("addr add 10.251.79.1/24 dev fo-hb");
  set_up("fo-hb");
  auto m = make({"fo-hb"});
  EXPECT_EQ(m->problem(), std::nullopt);

  ip("link set fo-hb down");
  ip("link set fo-hb name fo-other");  // a link must be down to be renamed
  wait_for_problem(*m, "fo-hb does not exist");
  ip("link set fo-other name fo-hb");
  ip("link set fo-hb up");
  wait_for_problem(*m, std::nullopt);
  // The address came along with the link, though no address event named fo-hb.
  EXPECT_EQ(m->states()[0], (LinkState{"fo-hb", true, true, true}));
}

TEST_F(LinkMonitorTest, UnrelatedInterfacesProduceNoEvents) {
  auto m = make({kIfA});
  add_link("fo-noise");
  ip("link set fo-noise up");
  ip("addr add 10.251.80.1/24 dev fo-noise");
  ip("link set fo-noise down");
  ip("link del fo-noise");
  ip(std::string("link set ") + kIfA + " down");  // a barrier after the noise
  auto seen = wait_for_problem(*m, "fo-a is down");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], (LinkState{kIfA, true, false, true}));
  EXPECT_EQ(m->take_error(), std::nullopt);
}

TEST_F(LinkMonitorTest, OverflowedQueueIsReReadWithoutLosingState) {
  auto m = make({kIfA});
  // The smallest queue the kernel allows, then a storm of events nobody reads.
  const int tiny = 1;
  ASSERT_EQ(::setsockopt(m->fd(), SOL_SOCKET, SO_RCVBUF, &tiny, sizeof tiny), 0);
  add_link("fo-noise");
  std::string batch;
  for (int i = 1; i <= 200; ++i) {
    batch += "addr add 10.252." + std::to_string(i) + ".1/24 dev fo-noise\n";
  }
  must_run("printf '" + batch + "' | ip -n " + net().a() + " -batch -");
  ip(std::string("addr del 10.251.77.1/24 dev ") + kIfA);  // lost in the overflow, or not
  ip(std::string("link set ") + kIfA + " down");
  ip("link del fo-noise");

  wait_for_problem(*m, "fo-a is down");
  EXPECT_GE(m->resyncs(), 1u);
  EXPECT_EQ(m->states()[0], (LinkState{kIfA, true, false, false}));
  // Events after the overflow keep working.
  ip(std::string("addr add 10.251.77.1/24 dev ") + kIfA);
  ip(std::string("link set ") + kIfA + " up");
  wait_for_problem(*m, std::nullopt);
}

}  // namespace
}  // namespace failoverd::net
