#include "failoverd/net/address_manager.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "failoverd/util/unique_fd.h"

namespace failoverd::net {

std::string InterfaceAddress::to_string() const {
  return address.to_string() + "/" + std::to_string(prefix_len);
}

AddressManager::~AddressManager() = default;

namespace {

struct NlSockDeleter {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};
struct RtnlAddrDeleter {
  void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
};
struct NlAddrDeleter {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};

class NetlinkAddressManager final : public AddressManager {
 public:
  util::Expected<AddOutcome, std::string> add(const std::string& ifname,
                                              const InterfaceAddress& a) override {
    auto msg = make(ifname, a);
    if (!msg) return util::unexpected(msg.error());
    // NLM_F_EXCL: an address that is already there must come back as EEXIST, so that we know
    // it is not ours and never remove it.
    const int err = rtnl_addr_add(sock_.get(), msg->get(), NLM_F_EXCL);
    if (err == -NLE_EXIST) return AddOutcome::kAlreadyPresent;
    if (err < 0) return util::unexpected("adding " + a.to_string() + " to " + ifname + ": " + nl_geterror(err));
    return AddOutcome::kAdded;
  }

  util::Expected<util::Ok, std::string> remove(const std::string& ifname,
                                               const InterfaceAddress& a) override {
    auto msg = make(ifname, a);
    if (!msg) return util::unexpected(msg.error());
    const int err = rtnl_addr_delete(sock_.get(), msg->get(), 0);
    if (err < 0 && err != -NLE_NOADDR && err != -NLE_OBJ_NOTFOUND) {
      return util::unexpected("removing " + a.to_string() + " from " + ifname + ": " + nl_geterror(err));
    }
    return util::Ok{};
  }

  util::Expected<util::Ok, std::string> announce(const std::string& ifname,
                                                 util::Ipv4 address) override {
    const unsigned ifindex = if_nametoindex(ifname.c_str());
    if (ifindex == 0) return util::unexpected("gratuitous ARP on " + ifname + ": no such interface");
    util::UniqueFd fd(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP)));
    if (!fd.valid()) return util::unexpected(std::string("gratuitous ARP: socket: ") + std::strerror(errno));
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    if (::ioctl(fd.get(), SIOCGIFHWADDR, &ifr) < 0) {
      return util::unexpected("gratuitous ARP on " + ifname + ": no hardware address: " + std::strerror(errno));
    }
    // ARP request for our own address (RFC 5227 §3 "ARP Announcement"): sender and target
    // protocol address are both the VIP.
    std::array<unsigned char, 28> arp{};
    const std::uint32_t ip = address.network_order();
    arp[0] = 0; arp[1] = 1;        // hardware type: Ethernet
    arp[2] = 0x08; arp[3] = 0x00;  // protocol type: IPv4
    arp[4] = 6; arp[5] = 4;        // address lengths
    arp[6] = 0; arp[7] = 1;        // operation: request
    std::memcpy(&arp[8], ifr.ifr_hwaddr.sa_data, 6);
    std::memcpy(&arp[14], &ip, 4);
    std::memcpy(&arp[24], &ip, 4);
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ETH_P_ARP);
    to.sll_ifindex = static_cast<int>(ifindex);
    to.sll_halen = 6;
    std::memset(to.sll_addr, 0xff, 6);
    if (::sendto(fd.get(), arp.data(), arp.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                 sizeof to) < 0) {
      return util::unexpected("gratuitous ARP on " + ifname + ": " + std::strerror(errno));
    }
    return util::Ok{};
  }

  util::Expected<util::Ok, std::string> connect() {
    sock_.reset(nl_socket_alloc());
    if (!sock_) return util::unexpected(std::string("netlink: out of memory"));
    const int err = nl_connect(sock_.get(), NETLINK_ROUTE);
    if (err < 0) return util::unexpected(std::string("netlink: ") + nl_geterror(err));
    return util::Ok{};
  }

 private:
  util::Expected<std::unique_ptr<rtnl_addr, RtnlAddrDeleter>, std::string> make(
      const std::string& ifname, const InterfaceAddress& a) {
    const unsigned ifindex = if_nametoindex(ifname.c_str());
    if (ifindex == 0) return util::unexpected(a.to_string() + " on " + ifname + ": no such interface");
    std::unique_ptr<rtnl_addr, RtnlAddrDeleter> msg(rtnl_addr_alloc());
    const std::uint32_t ip = a.address.network_order();
    std::unique_ptr<nl_addr, NlAddrDeleter> local(nl_addr_build(AF_INET, &ip, sizeof ip));
    if (!msg || !local) return util::unexpected(std::string("netlink: out of memory"));
    nl_addr_set_prefixlen(local.get(), a.prefix_len);
    rtnl_addr_set_ifindex(msg.get(), static_cast<int>(ifindex));
    rtnl_addr_set_family(msg.get(), AF_INET);
    const int err = rtnl_addr_set_local(msg.get(), local.get());
    if (err < 0) return util::unexpected(std::string("netlink: ") + nl_geterror(err));
    rtnl_addr_set_prefixlen(msg.get(), a.prefix_len);
    return msg;
  }

  std::unique_ptr<nl_sock, NlSockDeleter> sock_;
};

}  // namespace

std::unique_ptr<AddressManager> make_netlink_address_manager() {
  auto m = std::make_unique<NetlinkAddressManager>();
  if (auto ok = m->connect(); !ok) throw std::runtime_error(ok.error());
  return m;
}

}  // namespace failoverd::net
