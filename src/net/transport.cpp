#include "failoverd/net/transport.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <cstring>

#include "socket_util.h"

namespace failoverd::net {

Transport::~Transport() = default;

util::Expected<util::Ipv4, std::string> first_ipv4_address(const std::string& ifname) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    return util::unexpected("getifaddrs: " + detail::errno_text(errno));
  }
  std::optional<util::Ipv4> found;
  bool interface_seen = false;
  for (ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
    if (it->ifa_name == nullptr || ifname != it->ifa_name) continue;
    interface_seen = true;
    if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET) continue;
    sockaddr_in sa;
    std::memcpy(&sa, it->ifa_addr, sizeof sa);
    found = util::Ipv4::from_network_order(sa.sin_addr.s_addr);
    break;
  }
  ::freeifaddrs(list);
  if (found) return *found;
  // getifaddrs lists every interface at least once (AF_PACKET), so an unseen name is unknown.
  if (!interface_seen && ::if_nametoindex(ifname.c_str()) == 0) {
    return util::unexpected("interface " + ifname + " does not exist");
  }
  return util::unexpected("interface " + ifname + " has no IPv4 address");
}

}  // namespace failoverd::net
