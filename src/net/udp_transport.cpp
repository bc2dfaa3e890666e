// The udp transport: VRRP advertisements inside authenticated UDP datagrams, for networks
// (clouds, mostly) that drop IP protocol 112 or multicast. Unicast to configured peers only.
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "failoverd/net/transport.h"
#include "failoverd/util/unique_fd.h"
#include "failoverd/proto/auth_envelope.h"
#include "socket_util.h"

namespace failoverd::net {
namespace {

constexpr int kTosNetworkControl = 0xc0;
constexpr std::size_t kMaxDatagram = 65536;

// Validates what the Authenticator constructor only REQUIRES, so a short key is a clear error.
std::vector<std::uint8_t> checked_key(const TransportConfig& config, const std::string& context) {
  if (config.auth_key.size() < proto::kMinKeySize) {
    throw std::runtime_error(context + ": the authentication key has " +
                             std::to_string(config.auth_key.size()) + " bytes, at least " +
                             std::to_string(proto::kMinKeySize) + " are required");
  }
  return config.auth_key;
}

class UdpTransport final : public Transport {
 public:
  UdpTransport(const TransportConfig& config, const std::string& context)
      : config_(config), auth_(checked_key(config, context)), buffer_(kMaxDatagram) {
    if (config.peers.empty()) {
      throw std::runtime_error(context + ": at least one peer is required (udp has no multicast)");
    }
    if (config.source == util::Ipv4{}) {
      throw std::runtime_error(context + ": no source address");
    }
    fd_.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd_.valid()) detail::throw_errno(context, "socket(AF_INET, SOCK_DGRAM)", errno);
    const int fd = fd_.get();

    detail::bind_to_device(fd, config.interface, context);
    // TTL 255 both ways, as for VRRP: a receiver rejects anything that crossed a router.
    detail::set_int_option(fd, IPPROTO_IP, IP_TTL, proto::kRequiredTtl, context, "IP_TTL");
    detail::set_int_option(fd, IPPROTO_IP, IP_TOS, kTosNetworkControl, context, "IP_TOS");
    detail::set_int_option(fd, IPPROTO_IP, IP_RECVTTL, 1, context, "IP_RECVTTL");
    // The destination address feeds the checksum's pseudo-header.
    detail::set_int_option(fd, IPPROTO_IP, IP_PKTINFO, 1, context, "IP_PKTINFO");
    sockaddr_in local = detail::to_sockaddr(config.source, config.port);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
      detail::throw_errno(context,
                          "bind " + config.source.to_string() + ":" + std::to_string(config.port),
                          errno);
    }
  }

  int fd() const override { return fd_.get(); }

  util::Expected<util::Ok, std::string> send(const proto::Advertisement& ad) override {
    return detail::send_each(fd_.get(), config_.peers, config_.source, config_.port,
                             [&](util::Ipv4 peer) {
                               const std::vector<std::uint8_t> vrrp = proto::encode(
                                   ad, config_.source, peer, config_.checksum_mode);
                               return auth_.seal(vrrp, next_sequence());
                             });
  }

  std::optional<util::Expected<Received, proto::DecodeError>> receive() override {
    std::optional<detail::Datagram> d = detail::receive_datagram(fd_.get(), buffer_);
    if (!d) return std::nullopt;
    if (auto ok = detail::check_complete(*d, buffer_.size(), drops_); !ok) {
      return util::unexpected(ok.error());
    }
    const util::Ipv4 source = d->source;
    if (auto ok = detail::check_source(config_, source, drops_); !ok) {
      return util::unexpected(ok.error());
    }
    auto opened = auth_.open(std::span<const std::uint8_t>(buffer_.data(), d->size));
    if (!opened) return detail::reject(drops_, opened.error().reason, opened.error().detail);
    if (!guard_.accept(source, opened->sequence)) {
      return detail::reject(drops_, proto::DropReason::kReplay,
                            "sequence " + std::to_string(opened->sequence) + " from " +
                                source.to_string() + " is not newer than the last one accepted");
    }
    // Both come with every datagram once IP_RECVTTL and IP_PKTINFO are on; if the kernel ever
    // left one out, TTL 0 is rejected rather than trusted.
    const proto::PacketInfo info{source, d->destination.value_or(config_.source),
                                 static_cast<std::uint8_t>(std::clamp(d->ttl.value_or(0), 0, 255))};
    return detail::decode_advert(config_, opened->vrrp, info, drops_);
  }

  const proto::DropCounters& drops() const override { return drops_; }

 private:
  // Wall-clock microseconds, so the sequence keeps growing across restarts, and never less
  // than one more than the last, so it grows strictly even if the clock steps back.
  std::uint64_t next_sequence() {
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    last_sequence_ = std::max(last_sequence_ + 1, static_cast<std::uint64_t>(now.count()));
    return last_sequence_;
  }

  TransportConfig config_;
  proto::Authenticator auth_;
  proto::ReplayGuard guard_;
  util::UniqueFd fd_;
  proto::DropCounters drops_{};
  std::vector<std::uint8_t> buffer_;
  std::uint64_t last_sequence_ = 0;
};

}  // namespace

std::unique_ptr<Transport> make_udp_transport(const TransportConfig& config) {
  return std::make_unique<UdpTransport>(config, "udp transport on " + config.interface);
}

}  // namespace failoverd::net
