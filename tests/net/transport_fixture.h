// Shared by the vrrp and udp transport tests: a NetnsTest that makes transports inside either
// namespace, and checks on what receive() returned and on setup errors.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "failoverd/net/transport.h"
#include "failoverd/proto/advertisement.h"
#include "net/netns_fixture.h"
#include "net/socket_helpers.h"

namespace failoverd::testing {

// `Make` is make_vrrp_transport or make_udp_transport. A transport made in a namespace keeps
// its socket there and can be used from the test thread.
template <std::unique_ptr<net::Transport> (*Make)(const net::TransportConfig&)>
class TransportTest : public NetnsTest {
 protected:
  std::unique_ptr<net::Transport> in_a(const net::TransportConfig& c) {
    return net().in_a([&] { return Make(c); });
  }
  std::unique_ptr<net::Transport> in_b(const net::TransportConfig& c) {
    return net().in_b([&] { return Make(c); });
  }
};

// What every transport needs; each test file sets the fields of its own transport.
inline net::TransportConfig transport_config(const char* ifname, util::Ipv4 source,
                                             std::vector<util::Ipv4> peers, std::uint8_t vrid) {
  net::TransportConfig c;
  c.interface = ifname;
  c.source = source;
  c.peers = std::move(peers);
  c.virtual_router_id = vrid;
  return c;
}

// ASSERT_TRUE(accepted(got, source, ad)): receive() accepted `ad` from `source`.
inline ::testing::AssertionResult accepted(const std::optional<ReceiveResult>& got,
                                           util::Ipv4 source, const proto::Advertisement& ad) {
  if (!got) return ::testing::AssertionFailure() << "nothing received";
  if (!got->has_value()) return ::testing::AssertionFailure() << got->error().detail;
  if ((*got)->source != source) {
    return ::testing::AssertionFailure()
           << "from " << (*got)->source.to_string() << ", expected " << source.to_string();
  }
  if (!((*got)->advert == ad)) return ::testing::AssertionFailure() << "a different advert";
  return ::testing::AssertionSuccess();
}

// ASSERT_TRUE(dropped(got, reason)): receive() returned a drop for `reason`.
inline ::testing::AssertionResult dropped(const std::optional<ReceiveResult>& got,
                                          proto::DropReason reason) {
  if (!got) return ::testing::AssertionFailure() << "nothing received";
  if (got->has_value()) {
    return ::testing::AssertionFailure() << "accepted, expected " << proto::to_string(reason);
  }
  if (got->error().reason != reason) {
    return ::testing::AssertionFailure() << "dropped as " << proto::to_string(got->error().reason)
                                         << ", expected " << proto::to_string(reason) << ": "
                                         << got->error().detail;
  }
  return ::testing::AssertionSuccess();
}

// ASSERT_TRUE(drops_all(t, n)): `t` receives n more datagrams and drops every one, and those
// are all it has dropped since it was made.
inline ::testing::AssertionResult drops_all(net::Transport& t, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    auto got = wait_receive(t);
    if (!got) return ::testing::AssertionFailure() << "junk datagram " << i << " not seen";
    if (got->has_value()) {
      return ::testing::AssertionFailure() << "junk datagram " << i << " accepted";
    }
  }
  if (total(t.drops()) != n) {
    return ::testing::AssertionFailure() << total(t.drops()) << " drops counted, expected " << n;
  }
  return ::testing::AssertionSuccess();
}

// The message of the std::runtime_error f() throws, for comparing setup errors word for word.
template <typename F>
std::string runtime_error_of(F&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no exception thrown)";
}

}  // namespace failoverd::testing
