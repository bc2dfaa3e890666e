// The raw IP protocol 112 transport over a real veth pair between two network namespaces.
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "failoverd/net/transport.h"
#include "failoverd/proto/advertisement.h"
#include "net/transport_fixture.h"

namespace failoverd::net {
namespace {

using proto::DropReason;
using testing::NetnsPair;
using util::Ipv4;

constexpr Ipv4 kA = NetnsPair::kAddrA;
constexpr Ipv4 kB = NetnsPair::kAddrB;
constexpr Ipv4 kStranger = Ipv4::from_octets(10, 251, 77, 9);

proto::Advertisement advert(std::uint8_t vrid = 51) {
  proto::Advertisement ad;
  ad.virtual_router_id = vrid;
  ad.priority = 150;
  ad.max_adver_interval_cs = 100;
  ad.addresses = {Ipv4::from_octets(10, 251, 77, 100), Ipv4::from_octets(10, 251, 77, 101)};
  return ad;
}

TransportConfig config(const char* ifname, Ipv4 source, std::vector<Ipv4> peers,
                       std::uint8_t vrid = 51,
                       proto::ChecksumMode mode = proto::ChecksumMode::kPseudoHeader) {
  TransportConfig c = testing::transport_config(ifname, source, std::move(peers), vrid);
  c.checksum_mode = mode;
  return c;
}

class VrrpTransportTest : public testing::TransportTest<make_vrrp_transport> {};

TEST_F(VrrpTransportTest, UnicastAdvertReachesPeerWithAllFields) {
  for (auto mode : {proto::ChecksumMode::kPseudoHeader, proto::ChecksumMode::kNoPseudoHeader}) {
    auto a = in_a(config(NetnsPair::kIfA, kA, {kB}, 51, mode));
    auto b = in_b(config(NetnsPair::kIfB, kB, {kA}, 51, mode));
    ASSERT_TRUE(a->send(advert()).has_value());
    ASSERT_TRUE(testing::accepted(testing::wait_receive(*b), kA, advert()));
    EXPECT_EQ(testing::total(b->drops()), 0u);
    // And back: both directions work on one socket each.
    ASSERT_TRUE(b->send(advert()).has_value());
    auto back = testing::wait_receive(*a);
    ASSERT_TRUE(back.has_value() && back->has_value());
    EXPECT_EQ((*back)->source, kB);
  }
}

TEST_F(VrrpTransportTest, ChecksumModeMismatchIsCountedAsBadChecksum) {
  auto a = in_a(config(NetnsPair::kIfA, kA, {kB}, 51, proto::ChecksumMode::kPseudoHeader));
  auto b = in_b(config(NetnsPair::kIfB, kB, {kA}, 51, proto::ChecksumMode::kNoPseudoHeader));
  ASSERT_TRUE(a->send(advert()).has_value());
  ASSERT_TRUE(testing::dropped(testing::wait_receive(*b), DropReason::kBadChecksum));
  EXPECT_EQ(testing::count(b->drops(), DropReason::kBadChecksum), 1u);
}

TEST_F(VrrpTransportTest, MulticastWhenNoPeers) {
  auto a = in_a(config(NetnsPair::kIfA, kA, {}));
  auto b = in_b(config(NetnsPair::kIfB, kB, {}));
  // A plain raw socket in b sees the IP header the kernel built for a's advert.
  auto sniffer = net().in_b([] {
    util::UniqueFd fd(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, 112));
    return fd;
  });
  ASSERT_TRUE(sniffer.valid());
  ASSERT_TRUE(a->send(advert()).has_value());

  ASSERT_TRUE(testing::accepted(testing::wait_receive(*b), kA, advert()))
      << "multicast advert";

  auto raw = testing::read_datagram(sniffer.get());
  auto ip = proto::parse_ipv4(raw);
  ASSERT_TRUE(ip.has_value());
  EXPECT_EQ(ip->info.destination, util::kVrrpMulticast);
  EXPECT_EQ(ip->info.source, kA);
  EXPECT_EQ(ip->info.ttl, 255);
  EXPECT_EQ(raw[1], 0xc0) << "TOS should be network control, as keepalived";
}

TEST_F(VrrpTransportTest, UnknownPeerIsDroppedAndCounted) {
  auto a = in_a(config(NetnsPair::kIfA, kA, {kB}));
  auto b = in_b(config(NetnsPair::kIfB, kB, {kStranger}));
  ASSERT_TRUE(a->send(advert()).has_value());
  auto got = testing::wait_receive(*b);
  ASSERT_TRUE(testing::dropped(got, DropReason::kUnknownPeer));
  EXPECT_NE(got->error().detail.find("10.251.77.1"), std::string::npos) << got->error().detail;
  EXPECT_EQ(testing::count(b->drops(), DropReason::kUnknownPeer), 1u);
  EXPECT_EQ(testing::total(b->drops()), 1u);
}

TEST_F(VrrpTransportTest, WrongVridIsCounted) {
  auto a = in_a(config(NetnsPair::kIfA, kA, {kB}, 52));
  auto b = in_b(config(NetnsPair::kIfB, kB, {kA}, 51));
  ASSERT_TRUE(a->send(advert(52)).has_value());
  ASSERT_TRUE(testing::dropped(testing::wait_receive(*b), DropReason::kWrongVrid));
  EXPECT_EQ(testing::count(b->drops(), DropReason::kWrongVrid), 1u);
}

TEST_F(VrrpTransportTest, TtlOtherThan255IsRejected) {
  auto b = in_b(config(NetnsPair::kIfB, kB, {kA}));
  auto raw = net().in_a([] { return testing::plain_socket(SOCK_RAW, kA, 0, 64); });
  const auto bytes = proto::encode(advert(), kA, kB, proto::ChecksumMode::kPseudoHeader);
  testing::send_bytes(raw.get(), bytes, kB, 0);
  ASSERT_TRUE(testing::dropped(testing::wait_receive(*b), DropReason::kBadTtl));
  EXPECT_EQ(testing::count(b->drops(), DropReason::kBadTtl), 1u);
}

TEST_F(VrrpTransportTest, GarbageIsCountedAndTheTransportKeepsWorking) {
  auto a = in_a(config(NetnsPair::kIfA, kA, {kB}));
  auto b = in_b(config(NetnsPair::kIfB, kB, {kA}));
  auto raw = net().in_a([] { return testing::plain_socket(SOCK_RAW, kA, 0, 255); });
  const std::vector<std::vector<std::uint8_t>> junk = {
      {},                                  // empty VRRP payload
      {0x31},                              // one byte
      {0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 1, 2, 3, 4},  // version 13
      {0x31, 51, 100, 200, 0, 100, 0, 0},  // claims 200 addresses, has none
      std::vector<std::uint8_t>(1400, 0xff),
  };
  for (const auto& bytes : junk) testing::send_bytes(raw.get(), bytes, kB, 0);
  ASSERT_TRUE(testing::drops_all(*b, junk.size()));
  EXPECT_FALSE(b->receive().has_value()) << "nothing else pending";

  ASSERT_TRUE(a->send(advert()).has_value());
  auto good = testing::wait_receive(*b);
  ASSERT_TRUE(good.has_value() && good->has_value());
  EXPECT_EQ((*good)->advert, advert());
}

TEST_F(VrrpTransportTest, OwnLoopedBackMulticastIsDropped) {
  auto a = in_a(config(NetnsPair::kIfA, kA, {}));
  // Another socket on the same host, with multicast loop on (the default), as a second
  // daemon instance or a misconfigured keepalived would have.
  auto raw = net().in_a([] {
    auto fd = testing::plain_socket(SOCK_RAW, kA, 0, 255);
    ip_mreqn out{};
    out.imr_address.s_addr = kA.network_order();
    out.imr_ifindex = static_cast<int>(::if_nametoindex(NetnsPair::kIfA));
    if (::setsockopt(fd.get(), IPPROTO_IP, IP_MULTICAST_IF, &out, sizeof out) != 0) {
      throw std::runtime_error("IP_MULTICAST_IF");
    }
    const int ttl = 255;
    ::setsockopt(fd.get(), IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
    return fd;
  });
  const auto bytes =
      proto::encode(advert(), kA, util::kVrrpMulticast, proto::ChecksumMode::kPseudoHeader);
  testing::send_bytes(raw.get(), bytes, util::kVrrpMulticast, 0);
  ASSERT_TRUE(testing::dropped(testing::wait_receive(*a), DropReason::kOwnPacket));
  EXPECT_EQ(testing::count(a->drops(), DropReason::kOwnPacket), 1u);
}

TEST_F(VrrpTransportTest, OwnTransportDoesNotHearItself) {
  auto a = in_a(config(NetnsPair::kIfA, kA, {}));
  auto b = in_b(config(NetnsPair::kIfB, kB, {}));
  ASSERT_TRUE(a->send(advert()).has_value());
  ASSERT_TRUE(testing::wait_receive(*b).has_value());
  // IP_MULTICAST_LOOP is off: a never sees its own advert, not even as a drop.
  EXPECT_FALSE(testing::wait_receive(*a, std::chrono::milliseconds(200)).has_value());
  EXPECT_EQ(testing::total(a->drops()), 0u);
}

TEST_F(VrrpTransportTest, SendFailureIsReportedWithThePeer) {
  // The subnet's broadcast address: refused locally (no SO_BROADCAST), unlike a mere
  // unreachable host, which a device-bound socket would just try to ARP for.
  const Ipv4 broadcast = Ipv4::from_octets(10, 251, 77, 255);
  auto a = in_a(config(NetnsPair::kIfA, kA, {broadcast, kB}));
  auto b = in_b(config(NetnsPair::kIfB, kB, {kA}));
  auto sent = a->send(advert());
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error(), "sendto 10.251.77.255: Permission denied");
  // The other peer still got its copy.
  auto got = testing::wait_receive(*b);
  ASSERT_TRUE(got.has_value() && got->has_value());
}

TEST_F(VrrpTransportTest, PeerListMayContainOurOwnAddress) {
  auto a = in_a(config(NetnsPair::kIfA, kA, {kA, kB}));
  auto b = in_b(config(NetnsPair::kIfB, kB, {kA, kB}));
  ASSERT_TRUE(a->send(advert()).has_value());
  auto got = testing::wait_receive(*b);
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_FALSE(testing::wait_receive(*a, std::chrono::milliseconds(200)).has_value());
}

TEST_F(VrrpTransportTest, SetupErrorsNameTheStep) {
  EXPECT_EQ(testing::runtime_error_of([&] { in_a(config("fo-missing0", kA, {kB})); }),
            "vrrp transport on fo-missing0: SO_BINDTODEVICE fo-missing0: No such device");
  EXPECT_THROW(in_a(config("", kA, {kB})), std::runtime_error);
  EXPECT_THROW(in_a(config("a-name-much-too-long", kA, {kB})), std::runtime_error);
  EXPECT_THROW(in_a(config(NetnsPair::kIfA, Ipv4{}, {kB})), std::runtime_error);
  // Binding to an address this host does not have.
  EXPECT_THROW(in_a(config(NetnsPair::kIfA, kStranger, {kB})), std::runtime_error);
}

TEST_F(VrrpTransportTest, FirstIpv4AddressOfAnInterface) {
  net().in_a([] {
    auto addr = first_ipv4_address(NetnsPair::kIfA);
    ASSERT_TRUE(addr.has_value()) << addr.error();
    EXPECT_EQ(*addr, kA);
    auto lo = first_ipv4_address("lo");
    ASSERT_TRUE(lo.has_value());
    EXPECT_EQ(*lo, Ipv4::from_octets(127, 0, 0, 1));
    auto missing = first_ipv4_address("fo-missing0");
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error(), "interface fo-missing0 does not exist");
  });
  testing::must_run("ip -n " + net().b() + " link add fo-x type veth peer name fo-y");
  net().in_b([] {
    auto none = first_ipv4_address("fo-x");
    ASSERT_FALSE(none.has_value());
    EXPECT_EQ(none.error(), "interface fo-x has no IPv4 address");
  });
}

}  // namespace
}  // namespace failoverd::net
