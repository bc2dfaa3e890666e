// Gratuitous ARP on becoming MASTER: [virtual_ip] garp_count announcements per address,
// garp_interval apart, seen by a packet socket on the peer's side of the link.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "harness/harness.h"

namespace failoverd::e2e {
namespace {

// Times (since the capture began) of ARP frames whose sender and target address are both
// `address`: gratuitous announcements of it.
std::vector<Clock::duration> capture_garps(const std::string& netns, const std::string& address,
                                           Ms for_how_long) {
  std::vector<Clock::duration> out;
  std::thread t([&] {
    const int nsfd = ::open(("/var/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd < 0 || ::setns(nsfd, CLONE_NEWNET) != 0) return;  // setns is per thread
    ::close(nsfd);
    const int fd = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP));
    if (fd < 0) return;
    in_addr want{};
    ::inet_pton(AF_INET, address.c_str(), &want);
    const auto start = Clock::now();
    const auto until = start + for_how_long;
    while (Clock::now() < until) {
      const auto left = std::chrono::duration_cast<Ms>(until - Clock::now());
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count()) + 1) <= 0) continue;
      std::array<unsigned char, 128> buf{};
      const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      // ARP for IPv4 over Ethernet: 8-byte header, sha(6) spa(4) tha(6) tpa(4).
      if (n < 28) continue;
      if (std::memcmp(&buf[14], &want, 4) == 0 && std::memcmp(&buf[24], &want, 4) == 0) {
        out.push_back(Clock::now() - start);
      }
    }
    ::close(fd);
  });
  t.join();
  return out;
}

class Garp : public TwoHostTest {};

TEST_F(Garp, CountAndIntervalFollowTheConfig) {
  NodeConfig c = node_config(0, "node-a", 150);
  c.extra = "[virtual_ip]\naddress = 10.99.0.100/24\ngarp_count = 4\ngarp_interval = 300ms\n";
  auto capture = std::async(std::launch::async, [&] {
    return capture_garps(net().ns(1), "10.99.0.100", 3000ms);
  });
  std::this_thread::sleep_for(200ms);  // the capture is listening
  Node& a = start_node(c);
  const auto seen = capture.get();
  ASSERT_EQ(a.state(), "MASTER") << a.log();
  // garp_count = 4 at 300 ms: at 0, 300, 600, 900 ms after the take-over.
  ASSERT_EQ(seen.size(), 4U) << a.log();
  for (std::size_t i = 1; i < seen.size(); ++i) {
    const auto gap = std::chrono::duration_cast<Ms>(seen[i] - seen[i - 1]);
    EXPECT_GE(gap, 250ms) << "announcement " << i;
    EXPECT_LE(gap, 800ms) << "announcement " << i;
  }
}

}  // namespace
}  // namespace failoverd::e2e
