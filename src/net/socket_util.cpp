#include "socket_util.h"

#include <errno.h>
#include <net/if.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace failoverd::net::detail {

std::string errno_text(int err) { return std::generic_category().message(err); }

void throw_errno(const std::string& context, const std::string& step, int err) {
  throw std::runtime_error(context + ": " + step + ": " + errno_text(err));
}

void set_int_option(int fd, int level, int name, int value, const std::string& context,
                    const char* step) {
  if (::setsockopt(fd, level, name, &value, sizeof value) != 0) throw_errno(context, step, errno);
}

void bind_to_device(int fd, const std::string& ifname, const std::string& context) {
  if (ifname.empty()) throw std::runtime_error(context + ": no interface configured");
  if (ifname.size() >= IFNAMSIZ) {
    throw std::runtime_error(context + ": interface name '" + ifname + "' is longer than " +
                             std::to_string(IFNAMSIZ - 1) + " characters");
  }
  if (::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(),
                   static_cast<socklen_t>(ifname.size() + 1)) != 0) {
    throw_errno(context, "SO_BINDTODEVICE " + ifname, errno);
  }
}

unsigned interface_index(const std::string& ifname, const std::string& context) {
  unsigned index = ::if_nametoindex(ifname.c_str());
  if (index == 0) throw_errno(context, "interface " + ifname, errno);
  return index;
}

sockaddr_in to_sockaddr(util::Ipv4 address, std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = address.network_order();
  return sa;
}

std::optional<Datagram> receive_datagram(int fd, std::span<std::uint8_t> buffer) {
  // A socket error is reported once and then cleared, so a bounded retry cannot spin.
  for (int attempt = 0; attempt < 16; ++attempt) {
    sockaddr_in from{};
    iovec iov{buffer.data(), buffer.size()};
    alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(in_pktinfo)) +
                                           CMSG_SPACE(sizeof(int)) + 64];
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;

    ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return std::nullopt;
      continue;  // EINTR, or a pending ICMP error (ECONNREFUSED, EHOSTUNREACH, ...)
    }
    Datagram d;
    d.size = std::min(static_cast<std::size_t>(n), buffer.size());
    d.truncated = (msg.msg_flags & MSG_TRUNC) != 0;
    d.source = util::Ipv4::from_network_order(from.sin_addr.s_addr);
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != IPPROTO_IP) continue;
      if (c->cmsg_type == IP_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(in_pktinfo))) {
        in_pktinfo info;
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        d.destination = util::Ipv4::from_network_order(info.ipi_addr.s_addr);
      } else if (c->cmsg_type == IP_TTL && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
        int ttl = 0;
        std::memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
        d.ttl = ttl;
      }
    }
    return d;
  }
  return std::nullopt;
}

namespace {

void append_error(std::string& errors, util::Ipv4 target, int err) {
  if (!errors.empty()) errors += "; ";
  errors += "sendto " + target.to_string() + ": " + errno_text(err);
}

}  // namespace

util::Expected<util::Ok, std::string> send_each(
    int fd, std::span<const util::Ipv4> targets, util::Ipv4 source, std::uint16_t port,
    const std::function<std::vector<std::uint8_t>(util::Ipv4 target)>& bytes_for) {
  std::string errors;
  for (util::Ipv4 target : targets) {
    if (target == source) continue;
    const std::vector<std::uint8_t> bytes = bytes_for(target);
    const sockaddr_in to = to_sockaddr(target, port);
    ssize_t n;
    do {
      n = ::sendto(fd, bytes.data(), bytes.size(), MSG_DONTWAIT,
                   reinterpret_cast<const sockaddr*>(&to), sizeof to);
    } while (n < 0 && errno == EINTR);
    if (n < 0) append_error(errors, target, errno);
  }
  if (!errors.empty()) return util::unexpected(std::move(errors));
  return util::Ok{};
}

util::Unexpected<proto::DecodeError> reject(proto::DropCounters& drops, proto::DropReason reason,
                                            std::string detail) {
  ++drops[static_cast<std::size_t>(reason)];
  return util::unexpected(proto::DecodeError{reason, std::move(detail)});
}

util::Expected<util::Ok, proto::DecodeError> check_complete(const Datagram& d,
                                                            std::size_t capacity,
                                                            proto::DropCounters& drops) {
  if (d.truncated) {
    return reject(drops, proto::DropReason::kTruncated,
                  "datagram longer than " + std::to_string(capacity) + " bytes");
  }
  return util::Ok{};
}

util::Expected<util::Ok, proto::DecodeError> check_source(const TransportConfig& config,
                                                          util::Ipv4 source,
                                                          proto::DropCounters& drops) {
  if (source == config.source) {
    return reject(drops, proto::DropReason::kOwnPacket, "our own advertisement came back");
  }
  if (!config.peers.empty() &&
      std::find(config.peers.begin(), config.peers.end(), source) == config.peers.end()) {
    return reject(drops, proto::DropReason::kUnknownPeer,
                  "source " + source.to_string() + " is not a configured peer");
  }
  return util::Ok{};
}

ReceiveResult decode_advert(const TransportConfig& config, std::span<const std::uint8_t> vrrp,
                            const proto::PacketInfo& info, proto::DropCounters& drops) {
  auto ad = proto::decode(vrrp, info, config.checksum_mode, /*check_ttl=*/true);
  if (!ad) return reject(drops, ad.error().reason, ad.error().detail);
  if (ad->virtual_router_id != config.virtual_router_id) {
    return reject(drops, proto::DropReason::kWrongVrid,
                  "virtual router id " + std::to_string(ad->virtual_router_id) + " from " +
                      info.source.to_string() + ", ours is " +
                      std::to_string(config.virtual_router_id));
  }
  return Received{info.source, std::move(ad).value()};
}

}  // namespace failoverd::net::detail
