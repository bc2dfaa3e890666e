// The rtnetlink message table behind track_interface and late interfaces
// (src/net/link_monitor.cpp LinkTable::apply): messages come from the kernel, but their
// attributes are parsed by our code, and a malformed one must not corrupt the table.
//
// Input: a stream of netlink messages, each taken at its nlmsg_len (aligned to 4) as a
// recvmsg buffer would hold them; a length that does not fit ends the stream after it is
// offered to apply() as it is.
//
// Contract: never throws. A refused message is an error sentence and changes nothing (the
// watched names' states and the link count stay). Applying a message twice is the same as
// once (each link message carries the whole link). A link that does not exist is neither up
// nor has an address.
#include <array>
#include <cstring>
#include <string>

#include "failoverd/net/link_monitor.h"
#include "fuzz_support.h"

namespace net = failoverd::net;

namespace {

const std::array<std::string, 5> kWatched = {"eth0", "eth1", "veth0", "lo", "br0"};

struct Snapshot {
  std::array<net::LinkState, kWatched.size()> states;
  std::size_t links = 0;
  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(const net::LinkTable& t) {
  Snapshot s;
  for (std::size_t i = 0; i < kWatched.size(); ++i) {
    s.states[i] = t.state(kWatched[i]);
    FUZZ_CHECK(s.states[i].exists || (!s.states[i].up && !s.states[i].has_ipv4), kWatched[i]);
  }
  s.links = t.link_count();
  return s;
}

void run(const std::uint8_t* data, std::size_t size) {
  net::LinkTable table;
  std::size_t pos = 0;
  int messages = 0;
  while (pos < size && messages++ < 256) {
    std::span<const std::uint8_t> rest(data + pos, size - pos);
    std::uint32_t len = 0;
    if (rest.size() >= 4) std::memcpy(&len, rest.data(), 4);
    const bool fits = len >= 16 && len <= rest.size();
    const auto message = fits ? rest.first(len) : rest;

    const Snapshot before = snapshot(table);
    const auto r = table.apply(message);
    const Snapshot after = snapshot(table);
    if (!r) {
      FUZZ_CHECK(!r.error().empty(), "empty error");
      FUZZ_CHECK(before == after, "a refused message changed the table: " + r.error());
    } else {
      const auto again = table.apply(message);
      FUZZ_CHECK(again.has_value(), "accepted once, refused the second time: " + again.error());
      FUZZ_CHECK(snapshot(table) == after, "applying a message twice is not the same as once");
    }
    if (!fits) break;
    pos += (static_cast<std::size_t>(len) + 3) & ~std::size_t{3};
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FUZZ_GUARD(run(data, size));
  return 0;
}
