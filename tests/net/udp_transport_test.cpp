// The udp transport (authenticated envelope) over a real veth pair between two namespaces.
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <chrono>

#include "failoverd/net/transport.h"
#include "failoverd/proto/advertisement.h"
#include "failoverd/proto/auth_envelope.h"
#include "net/transport_fixture.h"

namespace failoverd::net {
namespace {

using proto::DropReason;
using testing::NetnsPair;
using util::Ipv4;

constexpr Ipv4 kA = NetnsPair::kAddrA;
constexpr Ipv4 kB = NetnsPair::kAddrB;
constexpr std::uint16_t kPort = 6798;

const std::vector<std::uint8_t> kKey(32, 0x5a);

proto::Advertisement advert(std::uint8_t vrid = 51) {
  proto::Advertisement ad;
  ad.virtual_router_id = vrid;
  ad.priority = 200;
  ad.max_adver_interval_cs = 25;
  ad.addresses = {Ipv4::from_octets(203, 0, 113, 10)};
  return ad;
}

TransportConfig config(const char* ifname, Ipv4 source, std::vector<Ipv4> peers,
                       std::vector<std::uint8_t> key = kKey, std::uint8_t vrid = 51) {
  TransportConfig c = testing::transport_config(ifname, source, std::move(peers), vrid);
  c.port = kPort;
  c.auth_key = std::move(key);
  return c;
}

// A sealed datagram as a peer at `from` would send it to `to`.
std::vector<std::uint8_t> sealed(Ipv4 from, Ipv4 to, std::uint64_t sequence,
                                 const std::vector<std::uint8_t>& key = kKey) {
  const auto vrrp = proto::encode(advert(), from, to, proto::ChecksumMode::kPseudoHeader);
  return proto::Authenticator(key).seal(vrrp, sequence);
}

std::uint64_t sequence_of(const std::vector<std::uint8_t>& datagram) {
  // | vrrp | "FOv1" | sequence (8, big-endian) | mac (32) |
  std::uint64_t s = 0;
  for (std::size_t i = datagram.size() - 40; i < datagram.size() - 32; ++i) {
    s = s << 8 | datagram[i];
  }
  return s;
}

class UdpTransportTest : public testing::TransportTest<make_udp_transport> {
 protected:
  // A plain UDP socket at a's address, as an attacker or a broken peer would use.
  util::UniqueFd plain_in_a(int ttl = 255) {
    return net().in_a([ttl] { return testing::plain_socket(SOCK_DGRAM, kA, 0, ttl); });
  }
};

TEST_F(UdpTransportTest, RoundTripBothWays) {
  auto a = in_a(config(NetnsPair::kIfA, kA, {kB}));
  auto b = in_b(config(NetnsPair::kIfB, kB, {kA}));
  ASSERT_TRUE(a->send(advert()).has_value());
  ASSERT_TRUE(testing::accepted(testing::wait_receive(*b), kA, advert()));

  ASSERT_TRUE(b->send(advert()).has_value());
  auto back = testing::wait_receive(*a);
  ASSERT_TRUE(back.has_value() && back->has_value());
  EXPECT_EQ((*back)->source, kB);

  // Several adverts in a row: each has a fresh sequence, none is taken for a replay.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(a->send(advert()).has_value());
  for (int i = 0; i < 5; ++i) {
    auto r = testing::wait_receive(*b);
    ASSERT_TRUE(r.has_value() && r->has_value()) << "advert " << i;
  }
  EXPECT_EQ(testing::total(b->drops()), 0u);
}

TEST_F(UdpTransportTest, SequenceStartsAtWallClockAndStrictlyIncreases) {
  auto a = in_a(config(NetnsPair::kIfA, kA, {kB}));
  auto sniffer = net().in_b([] { return testing::plain_socket(SOCK_DGRAM, kB, kPort, 255); });
  const auto now_us = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  ASSERT_TRUE(a->send(advert()).has_value());
  ASSERT_TRUE(a->send(advert()).has_value());
  auto first = testing::read_datagram(sniffer.get());
  auto second = testing::read_datagram(sniffer.get());
  ASSERT_GE(first.size(), proto::kTrailerSize);
  ASSERT_GE(second.size(), proto::kTrailerSize);
  EXPECT_GE(sequence_of(first), now_us);
  EXPECT_LT(sequence_of(first), now_us + 60'000'000);
  EXPECT_GT(sequence_of(second), sequence_of(first));
}

TEST_F(UdpTransportTest, WrongKeyIsBadAuth) {
  auto a = in_a(config(NetnsPair::kIfA, kA, {kB}, std::vector<std::uint8_t>(32, 0x11)));
  auto b = in_b(config(NetnsPair::kIfB, kB, {kA}));
  ASSERT_TRUE(a->send(advert()).has_value());
  ASSERT_TRUE(testing::dropped(testing::wait_receive(*b), DropReason::kBadAuth));
  EXPECT_EQ(testing::count(b->drops(), DropReason::kBadAuth), 1u);
}

TEST_F(UdpTransportTest, ReplayedDatagramIsRejected) {
  // Capture what a really sends, with a plain socket standing where b's transport will be.
  auto a = in_a(config(NetnsPair::kIfA, kA, {kB}));
  std::vector<std::uint8_t> captured;
  {
    auto sniffer =
        net().in_b([] { return testing::plain_socket(SOCK_DGRAM, kB, kPort, 255); });
    ASSERT_TRUE(a->send(advert()).has_value());
    captured = testing::read_datagram(sniffer.get());
    ASSERT_FALSE(captured.empty());
  }
  auto b = in_b(config(NetnsPair::kIfB, kB, {kA}));
  auto replayer = plain_in_a();
  // First delivery is new to b and accepted; the same bytes again are a replay.
  testing::send_bytes(replayer.get(), captured, kB, kPort);
  auto first = testing::wait_receive(*b);
  ASSERT_TRUE(first.has_value() && first->has_value());
  testing::send_bytes(replayer.get(), captured, kB, kPort);
  ASSERT_TRUE(testing::dropped(testing::wait_receive(*b), DropReason::kReplay));
  EXPECT_EQ(testing::count(b->drops(), DropReason::kReplay), 1u);
  // a's next advert carries a newer sequence and is accepted.
  ASSERT_TRUE(a->send(advert()).has_value());
  auto fresh = testing::wait_receive(*b);
  ASSERT_TRUE(fresh.has_value() && fresh->has_value()) << fresh->error().detail;
}

TEST_F(UdpTransportTest, GarbageIsCountedNeverFatal) {
  auto a = in_a(config(NetnsPair::kIfA, kA, {kB}));
  auto b = in_b(config(NetnsPair::kIfB, kB, {kA}));
  auto sender = plain_in_a();
  const std::vector<std::vector<std::uint8_t>> junk = {
      {},
      {1, 2, 3},
      std::vector<std::uint8_t>(proto::kTrailerSize, 0),
      std::vector<std::uint8_t>(1000, 0xab),
  };
  for (const auto& bytes : junk) testing::send_bytes(sender.get(), bytes, kB, kPort);
  ASSERT_TRUE(testing::drops_all(*b, junk.size()));
  EXPECT_GE(testing::count(b->drops(), DropReason::kTruncated), 1u);
  EXPECT_GE(testing::count(b->drops(), DropReason::kBadAuth), 1u);

  // An authentic envelope around a malformed advertisement is still just a drop.
  const std::vector<std::uint8_t> bad_vrrp = {0x21, 51, 100, 1, 0, 100, 0, 0, 1, 2, 3, 4};
  const auto envelope = proto::Authenticator(kKey).seal(bad_vrrp, 1);
  testing::send_bytes(sender.get(), envelope, kB, kPort);
  ASSERT_TRUE(testing::dropped(testing::wait_receive(*b), DropReason::kBadVersion));

  ASSERT_TRUE(a->send(advert()).has_value());
  auto good = testing::wait_receive(*b);
  ASSERT_TRUE(good.has_value() && good->has_value());
}

TEST_F(UdpTransportTest, TtlOtherThan255IsRejected) {
  auto b = in_b(config(NetnsPair::kIfB, kB, {kA}));
  auto sender = plain_in_a(64);
  testing::send_bytes(sender.get(), sealed(kA, kB, 1000), kB, kPort);
  ASSERT_TRUE(testing::dropped(testing::wait_receive(*b), DropReason::kBadTtl));
  EXPECT_EQ(testing::count(b->drops(), DropReason::kBadTtl), 1u);
}

TEST_F(UdpTransportTest, UnknownPeerAndWrongVridAreCounted) {
  auto a = in_a(config(NetnsPair::kIfA, kA, {kB}, kKey, 52));
  auto b = in_b(config(NetnsPair::kIfB, kB, {Ipv4::from_octets(10, 251, 77, 9)}));
  ASSERT_TRUE(a->send(advert(52)).has_value());
  ASSERT_TRUE(testing::dropped(testing::wait_receive(*b), DropReason::kUnknownPeer));

  auto b2 = in_b([] {
    auto c = config(NetnsPair::kIfB, kB, {kA});
    c.port = kPort + 1;
    return c;
  }());
  auto a2 = in_a([] {
    auto c = config(NetnsPair::kIfA, kA, {kB}, kKey, 52);
    c.port = kPort + 1;
    return c;
  }());
  ASSERT_TRUE(a2->send(advert(52)).has_value());
  ASSERT_TRUE(testing::dropped(testing::wait_receive(*b2), DropReason::kWrongVrid));
  EXPECT_EQ(testing::count(b2->drops(), DropReason::kWrongVrid), 1u);
  EXPECT_EQ(testing::count(b->drops(), DropReason::kUnknownPeer), 1u);
}

TEST_F(UdpTransportTest, SendFailureNamesEveryPeer) {
  const Ipv4 other = Ipv4::from_octets(10, 251, 77, 3);
  auto a = in_a(config(NetnsPair::kIfA, kA, {kB, other}));
  // The heartbeat link goes down under a running transport.
  testing::must_run("ip -n " + net().a() + " link set " + NetnsPair::kIfA + " down");
  auto sent = a->send(advert());
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error(),
            "sendto 10.251.77.2: Network is unreachable; "
            "sendto 10.251.77.3: Network is unreachable");
}

TEST_F(UdpTransportTest, PortInUseIsAClearSetupError) {
  auto first = in_a(config(NetnsPair::kIfA, kA, {kB}));
  EXPECT_EQ(testing::runtime_error_of([&] { in_a(config(NetnsPair::kIfA, kA, {kB})); }),
            "udp transport on fo-a: bind 10.251.77.1:6798: Address already in use");
}

// Configuration mistakes are caught before any socket is made, so these need no privileges.
TEST(UdpTransportConfig, RequiresAPeer) {
  EXPECT_EQ(testing::runtime_error_of([] { make_udp_transport(config("eth0", kA, {})); }),
            "udp transport on eth0: at least one peer is required (udp has no multicast)");
}

TEST(UdpTransportConfig, RequiresALongEnoughKey) {
  EXPECT_EQ(testing::runtime_error_of([] {
              make_udp_transport(config("eth0", kA, {kB}, std::vector<std::uint8_t>(8, 1)));
            }),
            "udp transport on eth0: the authentication key has 8 bytes, at least 16 are "
            "required");
}

}  // namespace
}  // namespace failoverd::net
