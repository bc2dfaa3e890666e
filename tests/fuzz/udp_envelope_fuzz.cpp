// The udp transport's receive path (src/net/udp_transport.cpp receive(), without the socket):
// Authenticator::open, then the ReplayGuard, then decode_advert. Anyone who can reach the
// port sends these datagrams.
//
// Input: a flags byte (bit 0: the datagram is sealed with the key first, so the steps after
// the MAC are reached too; bits 1..7: which of 4 peers sent it), then the datagram.
//
// Contract: a datagram the fuzzer made (not sealed here) never authenticates: open() is
// kTruncated or kBadAuth with a sentence. A sealed one opens to exactly its bytes and
// sequence; any one flipped bit of it is refused. The guard accepts a peer's sequence only
// when it is greater than the last it accepted from that peer. Every refusal is a value
// with a reason and a sentence, never an exception.
#include <algorithm>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "../../src/net/socket_util.h"
#include "failoverd/net/transport.h"
#include "failoverd/proto/auth_envelope.h"
#include "fuzz_support.h"

namespace proto = failoverd::proto;
namespace net = failoverd::net;
using failoverd::util::Ipv4;

namespace {

const std::vector<std::uint8_t> kKey = {'f', 'u', 'z', 'z', '-', 'k', 'e', 'y', '-', '0',
                                        '1', '2', '3', '4', '5', '6', '7', '8', '9', '!'};

// Persists across inputs, as in the daemon: the replay state of a long-running receiver.
proto::ReplayGuard& guard() {
  static proto::ReplayGuard g;
  return g;
}
std::map<std::uint32_t, std::uint64_t>& model() {
  static std::map<std::uint32_t, std::uint64_t> m;
  return m;
}

std::uint64_t sequence_from(std::span<const std::uint8_t> b) {
  std::uint64_t s = 0;
  for (std::size_t i = 0; i < 8 && i < b.size(); ++i) s = (s << 8) | b[i];
  return s;
}

void run(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return;
  static const proto::Authenticator auth(kKey);
  const std::uint8_t flags = data[0];
  const Ipv4 peer{0x0A000000u + ((flags >> 1) & 3u) + 2u};  // 10.0.0.2 .. 10.0.0.5
  std::span<const std::uint8_t> input(data + 1, size - 1);

  std::vector<std::uint8_t> datagram;
  std::uint64_t sealed_seq = 0;
  const bool sealed = (flags & 1) != 0;
  if (sealed) {
    sealed_seq = sequence_from(input);
    datagram = auth.seal(input, sealed_seq);
  } else {
    datagram.assign(input.begin(), input.end());
  }

  const auto opened = auth.open(datagram);
  if (!sealed) {
    FUZZ_CHECK(!opened.has_value(), "a datagram made without the key authenticated");
    const auto& e = opened.error();
    FUZZ_CHECK(e.reason == proto::DropReason::kTruncated || e.reason == proto::DropReason::kBadAuth,
               proto::to_string(e.reason));
    FUZZ_CHECK(!e.detail.empty(), "empty detail");
    return;
  }
  FUZZ_CHECK(opened.has_value(), opened.error().detail);
  FUZZ_CHECK(opened->sequence == sealed_seq, "sequence changed");
  FUZZ_CHECK(opened->vrrp.size() == input.size() &&
                 std::equal(input.begin(), input.end(), opened->vrrp.begin()),
             "payload changed");

  // One flipped bit anywhere (chosen by the input) is refused.
  if (!datagram.empty()) {
    auto tampered = datagram;
    const std::size_t bit = static_cast<std::size_t>(sealed_seq % (tampered.size() * 8));
    tampered[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    const auto t = auth.open(tampered);
    FUZZ_CHECK(!t.has_value(), "tampered datagram authenticated, bit " + std::to_string(bit));
    FUZZ_CHECK(!t.error().detail.empty(), "empty detail");
  }

  // The replay guard against a model of its contract.
  auto& last = model();
  const auto it = last.find(peer.value);
  const bool expect = it == last.end() || opened->sequence > it->second;
  const bool accepted = guard().accept(peer, opened->sequence);
  FUZZ_CHECK(accepted == expect, "replay guard disagrees with its contract");
  if (accepted) last[peer.value] = opened->sequence;
  if (!accepted) return;

  net::TransportConfig config;
  config.interface = "fuzz0";
  config.source = Ipv4{0x0A000001u};
  config.peers = {Ipv4{0x0A000002u}, Ipv4{0x0A000003u}, Ipv4{0x0A000004u}, Ipv4{0x0A000005u}};
  config.virtual_router_id = 51;
  config.checksum_mode = (flags & 8) ? proto::ChecksumMode::kNoPseudoHeader
                                     : proto::ChecksumMode::kPseudoHeader;
  config.auth_key = kKey;
  proto::DropCounters drops{};
  const proto::PacketInfo info{peer, config.source, 255};
  const auto received = net::detail::decode_advert(config, opened->vrrp, info, drops);
  unsigned long long total = 0;
  for (auto d : drops) total += d;
  if (received) {
    FUZZ_CHECK(received->advert.virtual_router_id == config.virtual_router_id, "wrong vrid passed");
    FUZZ_CHECK(received->source == peer, "source changed");
    FUZZ_CHECK(total == 0, "an accepted advert was counted as a drop");
  } else {
    FUZZ_CHECK(!received.error().detail.empty(), "empty detail");
    FUZZ_CHECK(total == 1 && drops[static_cast<std::size_t>(received.error().reason)] == 1,
               "a drop is counted once, under its reason");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FUZZ_GUARD(run(data, size));
  return 0;
}
