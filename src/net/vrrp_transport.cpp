// The raw IP protocol 112 transport, configured the way keepalived configures its sockets so
// that the two interoperate on the wire.
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <stdexcept>

#include "failoverd/net/transport.h"
#include "failoverd/util/unique_fd.h"
#include "socket_util.h"

namespace failoverd::net {
namespace {

constexpr int kTosNetworkControl = 0xc0;  // IPTOS_PREC_INTERNETCONTROL, as keepalived
constexpr std::size_t kMaxDatagram = 65536;

class VrrpTransport final : public Transport {
 public:
  explicit VrrpTransport(const TransportConfig& config)
      : config_(config), buffer_(kMaxDatagram) {
    const std::string context = "vrrp transport on " + config.interface;
    if (config.source == util::Ipv4{}) {
      throw std::runtime_error(context + ": no source address");
    }
    fd_.reset(::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto::kIpProtoVrrp));
    if (!fd_.valid()) detail::throw_errno(context, "socket(AF_INET, SOCK_RAW, 112)", errno);
    const int fd = fd_.get();

    detail::bind_to_device(fd, config.interface, context);
    const unsigned ifindex = detail::interface_index(config.interface, context);
    // RFC 5798 §5.1.1.3: sent with TTL 255, so a receiver can tell the packet stayed on link.
    detail::set_int_option(fd, IPPROTO_IP, IP_TTL, proto::kRequiredTtl, context, "IP_TTL");
    detail::set_int_option(fd, IPPROTO_IP, IP_MULTICAST_TTL, proto::kRequiredTtl, context,
                           "IP_MULTICAST_TTL");
    detail::set_int_option(fd, IPPROTO_IP, IP_TOS, kTosNetworkControl, context, "IP_TOS");
    detail::set_int_option(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0, context, "IP_MULTICAST_LOOP");
    // Only the groups this socket joined, not every group some other socket joined.
    detail::set_int_option(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0, context, "IP_MULTICAST_ALL");

    // Multicast adverts leave through the heartbeat interface with our source address.
    ip_mreqn out{};
    out.imr_address.s_addr = config.source.network_order();
    out.imr_ifindex = static_cast<int>(ifindex);
    if (::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &out, sizeof out) != 0) {
      detail::throw_errno(context, "IP_MULTICAST_IF", errno);
    }

    if (!config.peers.empty()) {
      // Unicast: binding fixes the IP source and limits receiving to packets addressed to us.
      sockaddr_in local = detail::to_sockaddr(config.source, 0);
      if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
        detail::throw_errno(context, "bind " + config.source.to_string(), errno);
      }
    } else {
      // Multicast: no bind, since a raw socket bound to an address only receives packets
      // whose destination is that address. The source comes from IP_MULTICAST_IF above.
      ip_mreqn group{};
      group.imr_multiaddr.s_addr = util::kVrrpMulticast.network_order();
      group.imr_address.s_addr = config.source.network_order();
      group.imr_ifindex = static_cast<int>(ifindex);
      if (::setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &group, sizeof group) != 0) {
        detail::throw_errno(context, "join 224.0.0.18", errno);
      }
    }
  }

  int fd() const override { return fd_.get(); }

  util::Expected<util::Ok, std::string> send(const proto::Advertisement& ad) override {
    const std::span<const util::Ipv4> targets =
        config_.peers.empty() ? std::span<const util::Ipv4>(&util::kVrrpMulticast, 1)
                              : std::span<const util::Ipv4>(config_.peers);
    // The checksum's pseudo-header names the real destination of each copy.
    return detail::send_each(fd_.get(), targets, config_.source, 0, [&](util::Ipv4 target) {
      return proto::encode(ad, config_.source, target, config_.checksum_mode);
    });
  }

  std::optional<util::Expected<Received, proto::DecodeError>> receive() override {
    std::optional<detail::Datagram> d = detail::receive_datagram(fd_.get(), buffer_);
    if (!d) return std::nullopt;
    if (auto ok = detail::check_complete(*d, buffer_.size(), drops_); !ok) {
      return util::unexpected(ok.error());
    }
    // A raw socket delivers the IP header too: it carries the TTL and the real destination.
    auto ip = proto::parse_ipv4(std::span<const std::uint8_t>(buffer_.data(), d->size));
    if (!ip) return detail::reject(drops_, ip.error().reason, ip.error().detail);
    if (ip->protocol != proto::kIpProtoVrrp) {
      return detail::reject(drops_, proto::DropReason::kNotVrrp,
                            "IP protocol is " + std::to_string(ip->protocol) + ", not 112");
    }
    if (auto ok = detail::check_source(config_, ip->info.source, drops_); !ok) {
      return util::unexpected(ok.error());
    }
    return detail::decode_advert(config_, ip->payload, ip->info, drops_);
  }

  const proto::DropCounters& drops() const override { return drops_; }

 private:
  TransportConfig config_;
  util::UniqueFd fd_;
  proto::DropCounters drops_{};
  std::vector<std::uint8_t> buffer_;
};

}  // namespace

std::unique_ptr<Transport> make_vrrp_transport(const TransportConfig& config) {
  return std::make_unique<VrrpTransport>(config);
}

}  // namespace failoverd::net
