#include "failoverd/net/link_monitor.h"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/rtnl.h>
#include <netlink/socket.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace failoverd::net {

// ---------------------------------------------------------------------------------------------
// LinkTable: parsing from bytes. Everything is read with memcpy, so a message of any length or
// alignment is safe to hand in.

namespace {

template <typename T>
T load(std::span<const std::uint8_t> bytes, std::size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

constexpr std::size_t align4(std::size_t n) {
  return (n + 3) & ~std::size_t{3};
}

// Attribute payloads by type (the last one wins), or an error when the attribute area is
// malformed. Attributes with other types are skipped.
using Attributes = std::map<std::uint16_t, std::span<const std::uint8_t>>;

util::Expected<Attributes, std::string> parse_attributes(std::span<const std::uint8_t> area) {
  Attributes out;
  std::size_t at = 0;
  while (at + sizeof(rtattr) <= area.size()) {
    const auto attr = load<rtattr>(area, at);
    if (attr.rta_len < sizeof(rtattr) || at + attr.rta_len > area.size()) {
      return util::unexpected("attribute " + std::to_string(attr.rta_type) + " has length " +
                              std::to_string(attr.rta_len) + " but " +
                              std::to_string(area.size() - at) + " bytes remain");
    }
    const auto type = static_cast<std::uint16_t>(attr.rta_type & NLA_TYPE_MASK);
    out[type] = area.subspan(at + sizeof(rtattr), attr.rta_len - sizeof(rtattr));
    at += align4(attr.rta_len);
  }
  return out;
}

// An interface name attribute: NUL-terminated, non-empty, shorter than IFNAMSIZ.
std::optional<std::string> name_from(std::span<const std::uint8_t> payload) {
  const auto* chars = reinterpret_cast<const char*>(payload.data());
  const std::size_t len = ::strnlen(chars, payload.size());
  if (len == 0 || len == payload.size() || len >= IFNAMSIZ) return std::nullopt;
  return std::string(chars, len);
}

}  // namespace

util::Expected<util::Ok, std::string> LinkTable::apply(std::span<const std::uint8_t> message) {
  if (message.size() < sizeof(nlmsghdr)) {
    return util::unexpected("netlink message of " + std::to_string(message.size()) +
                            " bytes is shorter than its header");
  }
  const auto hdr = load<nlmsghdr>(message, 0);
  if (hdr.nlmsg_len < sizeof(nlmsghdr) || hdr.nlmsg_len > message.size()) {
    return util::unexpected("netlink message length " + std::to_string(hdr.nlmsg_len) +
                            " does not fit its " + std::to_string(message.size()) + " bytes");
  }
  const auto body = message.subspan(sizeof(nlmsghdr), hdr.nlmsg_len - sizeof(nlmsghdr));

  switch (hdr.nlmsg_type) {
    case RTM_NEWLINK:
    case RTM_DELLINK: {
      if (body.size() < sizeof(ifinfomsg)) {
        return util::unexpected("link message body of " + std::to_string(body.size()) +
                                " bytes is shorter than ifinfomsg");
      }
      const auto info = load<ifinfomsg>(body, 0);
      // AF_BRIDGE messages describe bridge ports; their DELLINK means "left the bridge".
      if (info.ifi_family != AF_UNSPEC) return util::Ok{};
      const std::int32_t index = info.ifi_index;
      if (index <= 0) {
        return util::unexpected("link message for ifindex " + std::to_string(index));
      }
      if (hdr.nlmsg_type == RTM_DELLINK) {
        // The kernel's name is not needed: a delete concerns exactly this ifindex.
        auto it = by_index_.find(index);
        if (it != by_index_.end()) {
          const std::string name = it->second.name;
          by_index_.erase(it);
          if (!name.empty()) unbind(name, index);
        }
        return util::Ok{};
      }
      auto attrs = parse_attributes(body.subspan(std::min(align4(sizeof(ifinfomsg)), body.size())));
      if (!attrs) return util::unexpected("link " + std::to_string(index) + ": " + attrs.error());
      auto name_attr = attrs->find(IFLA_IFNAME);
      if (name_attr == attrs->end()) {
        return util::unexpected("link " + std::to_string(index) + " has no name");
      }
      auto name = name_from(name_attr->second);
      if (!name) return util::unexpected("link " + std::to_string(index) + " has a bad name");
      Link& link = by_index_[index];
      if (link.name != *name) {
        const std::string old = std::exchange(link.name, *name);
        if (!old.empty()) unbind(old, index);  // renamed
      }
      link.flags = info.ifi_flags;
      bind(*name, index);
      return util::Ok{};
    }
    case RTM_NEWADDR:
    case RTM_DELADDR: {
      if (body.size() < sizeof(ifaddrmsg)) {
        return util::unexpected("address message body of " + std::to_string(body.size()) +
                                " bytes is shorter than ifaddrmsg");
      }
      const auto ifa = load<ifaddrmsg>(body, 0);
      if (ifa.ifa_family != AF_INET) return util::Ok{};
      const auto index = static_cast<std::int32_t>(ifa.ifa_index);
      if (index <= 0) {
        return util::unexpected("address message for ifindex " + std::to_string(ifa.ifa_index));
      }
      auto attrs = parse_attributes(body.subspan(std::min(align4(sizeof(ifaddrmsg)), body.size())));
      if (!attrs) {
        return util::unexpected("address on link " + std::to_string(index) + ": " + attrs.error());
      }
      // IFA_LOCAL is our address; IFA_ADDRESS is the peer on point-to-point links.
      auto found = attrs->find(IFA_LOCAL);
      if (found == attrs->end()) found = attrs->find(IFA_ADDRESS);
      if (found == attrs->end() || found->second.size() != 4) {
        return util::unexpected("address on link " + std::to_string(index) +
                                " has no IPv4 address attribute");
      }
      const auto address = load<std::uint32_t>(found->second, 0);
      const std::pair key{address, ifa.ifa_prefixlen};
      if (hdr.nlmsg_type == RTM_NEWADDR) {
        by_index_[index].ipv4.insert(key);
      } else if (auto it = by_index_.find(index); it != by_index_.end()) {
        it->second.ipv4.erase(key);
      }
      return util::Ok{};
    }
    default:
      return util::Ok{};
  }
}

void LinkTable::bind(const std::string& name, std::int32_t ifindex) {
  by_name_[name] = ifindex;
}

void LinkTable::unbind(const std::string& name, std::int32_t ifindex) {
  auto it = by_name_.find(name);
  if (it == by_name_.end() || it->second != ifindex) return;
  by_name_.erase(it);
  for (const auto& [index, link] : by_index_) {
    if (index != ifindex && link.name == name) {
      by_name_[name] = index;
      return;
    }
  }
}

LinkState LinkTable::state(const std::string& ifname) const {
  LinkState s{ifname};
  auto named = by_name_.find(ifname);
  if (named == by_name_.end()) return s;
  auto link = by_index_.find(named->second);
  if (link == by_index_.end()) return s;
  s.exists = true;
  s.up = (link->second.flags & IFF_UP) != 0 && (link->second.flags & IFF_RUNNING) != 0;
  s.has_ipv4 = !link->second.ipv4.empty();
  return s;
}

// ---------------------------------------------------------------------------------------------
// LinkMonitor: the sockets.

namespace {

struct NlSockDeleter {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};
using NlSock = std::unique_ptr<nl_sock, NlSockDeleter>;
struct NlCbDeleter {
  void operator()(nl_cb* cb) const { nl_cb_put(cb); }
};
using NlCb = std::unique_ptr<nl_cb, NlCbDeleter>;

// Where a socket's messages go.
struct Sink {
  LinkTable* table = nullptr;
  std::optional<std::string> malformed;  // the last malformed message
};

int on_message(nl_msg* msg, void* arg) {
  auto* sink = static_cast<Sink*>(arg);
  // Only the kernel speaks for the kernel.
  if (const sockaddr_nl* src = nlmsg_get_src(msg); src != nullptr && src->nl_pid != 0) {
    return NL_SKIP;
  }
  const nlmsghdr* hdr = nlmsg_hdr(msg);
  auto applied =
      sink->table->apply(std::span(reinterpret_cast<const std::uint8_t*>(hdr), hdr->nlmsg_len));
  if (!applied) sink->malformed = applied.error();
  return NL_OK;
}

NlSock open_socket(const char* what) {
  NlSock sock(nl_socket_alloc());
  if (!sock) throw std::runtime_error(std::string("link monitor: ") + what + ": out of memory");
  // Messages can outgrow libnl's default buffer; peeking sizes each read.
  nl_socket_enable_msg_peek(sock.get());
  // We read the replies ourselves and send no requests that need an ACK.
  nl_socket_disable_auto_ack(sock.get());
  if (int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0) {
    throw std::runtime_error(std::string("link monitor: ") + what +
                             ": nl_connect: " + nl_geterror(err));
  }
  return sock;
}

// Empties a socket whose dump was abandoned, so that the next dump starts clean.
void drain(nl_sock* sock) {
  std::array<char, 16384> buf;
  for (int i = 0; i < 10000; ++i) {
    if (::recv(nl_socket_get_fd(sock), buf.data(), buf.size(), MSG_DONTWAIT) <= 0 &&
        errno != EINTR) {
      return;
    }
  }
}

constexpr int kMaxReadsPerCall = 1024;
constexpr int kDumpAttempts = 3;
// A larger queue makes overflow (and the re-read it forces) rarer during event storms.
constexpr int kEventBufferBytes = 1 << 20;

}  // namespace

struct LinkMonitor::Sockets {
  NlSock events;  // subscribed to the groups, non-blocking: the daemon's fd
  NlSock dumps;   // blocking with a receive timeout: for the initial state and re-reads
  NlCb event_cb;  // the event socket's callbacks (a reference of our own)
  Sink event_sink;
  Sink dump_sink;
};

LinkMonitor::LinkMonitor(std::vector<std::string> ifnames) {
  for (auto& name : ifnames) {
    if (name.empty() || name.size() >= IFNAMSIZ || name.find('/') != std::string::npos ||
        std::any_of(name.begin(), name.end(), [](char c) { return c <= ' ' || c == 0x7f; })) {
      throw std::runtime_error("link monitor: \"" + name + "\" is not a valid interface name");
    }
    if (std::find(ifnames_.begin(), ifnames_.end(), name) == ifnames_.end()) {
      ifnames_.push_back(std::move(name));
    }
  }
  if (ifnames_.empty()) throw std::runtime_error("link monitor: no interface to watch");

  sockets_ = std::make_unique<Sockets>();
  sockets_->events = open_socket("event socket");
  sockets_->dumps = open_socket("dump socket");
  nl_sock* ev = sockets_->events.get();
  nl_sock* du = sockets_->dumps.get();

  nl_socket_disable_seq_check(ev);  // events are not answers to requests
  sockets_->event_sink.table = &table_;
  nl_socket_modify_cb(ev, NL_CB_VALID, NL_CB_CUSTOM, on_message, &sockets_->event_sink);
  sockets_->event_cb.reset(nl_socket_get_cb(ev));
  // Subscribing before the dump means nothing that happens during it is missed: such events
  // wait in the queue and are replayed on top of the dump.
  if (int err = nl_socket_add_memberships(ev, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, 0); err < 0) {
    throw std::runtime_error(std::string("link monitor: subscribing to link events: ") +
                             nl_geterror(err));
  }
  if (int err = nl_socket_set_nonblocking(ev); err < 0) {
    throw std::runtime_error(std::string("link monitor: non-blocking: ") + nl_geterror(err));
  }
  nl_socket_set_buffer_size(ev, kEventBufferBytes, 0);  // best effort: capped by rmem_max

  // The dump socket answers only our own requests, one at a time; drain() keeps stale parts
  // out, so libnl's sequence check would only get in the way after an abandoned dump.
  nl_socket_disable_seq_check(du);
  timeval timeout{2, 0};
  if (::setsockopt(nl_socket_get_fd(du), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0) {
    throw std::runtime_error(std::string("link monitor: SO_RCVTIMEO: ") + std::strerror(errno));
  }

  if (!resync()) throw std::runtime_error("link monitor: reading links: " + *error_);
  resyncs_ = 0;  // the first read is not a re-read
  refresh_states();
}

LinkMonitor::~LinkMonitor() = default;

int LinkMonitor::fd() const {
  return nl_socket_get_fd(sockets_->events.get());
}

bool LinkMonitor::resync() {
  nl_sock* du = sockets_->dumps.get();
  std::string failure;
  for (int attempt = 0; attempt < kDumpAttempts; ++attempt) {
    LinkTable fresh;
    sockets_->dump_sink = Sink{&fresh, std::nullopt};
    nl_socket_modify_cb(du, NL_CB_VALID, NL_CB_CUSTOM, on_message, &sockets_->dump_sink);
    // Links first, so that addresses land on named links.
    int err = nl_rtgen_request(du, RTM_GETLINK, AF_UNSPEC, NLM_F_DUMP);
    if (err >= 0) err = nl_recvmsgs_default(du);
    if (err >= 0) err = nl_rtgen_request(du, RTM_GETADDR, AF_INET, NLM_F_DUMP);
    if (err >= 0) err = nl_recvmsgs_default(du);
    if (err >= 0) {
      if (sockets_->dump_sink.malformed) note_error("dump: " + *sockets_->dump_sink.malformed);
      sockets_->dump_sink = Sink{};
      table_ = std::move(fresh);
      resync_pending_ = false;
      ++resyncs_;
      return true;
    }
    // NLE_DUMP_INTR (the links changed under the dump) is worth another try; so is anything
    // else, a bounded number of times.
    failure = std::string("dump: ") + nl_geterror(err);
    drain(du);
  }
  sockets_->dump_sink = Sink{};
  note_error(failure);
  resync_pending_ = true;
  return false;
}

std::vector<LinkState> LinkMonitor::process_events() {
  nl_sock* ev = sockets_->events.get();
  for (int i = 0; i < kMaxReadsPerCall; ++i) {
    // One datagram per call; the number of messages it held, or a negative libnl error.
    const int n = nl_recvmsgs_report(ev, sockets_->event_cb.get());
    if (sockets_->event_sink.malformed) {
      note_error("event: " + *std::exchange(sockets_->event_sink.malformed, std::nullopt));
    }
    if (n > 0) continue;
    if (n == 0 || n == -NLE_AGAIN) break;
    if (n == -NLE_NOMEM) {
      // ENOBUFS (libnl maps it to NLE_NOMEM): the kernel dropped events for us. Keep reading;
      // the dump below is newer than everything read, so one re-read covers any storm.
      resync_pending_ = true;
      continue;
    }
    note_error(std::string("receive: ") + nl_geterror(n));
    resync_pending_ = true;  // a message may be lost
    break;
  }
  // Events that arrive during the dump stay queued and are replayed on top of it next time.
  // On failure the last known state stays, and the next call tries again.
  if (resync_pending_) resync();
  return refresh_states();
}

std::vector<LinkState> LinkMonitor::refresh_states() {
  std::vector<LinkState> changed;
  std::vector<LinkState> now;
  now.reserve(ifnames_.size());
  for (std::size_t i = 0; i < ifnames_.size(); ++i) {
    now.push_back(table_.state(ifnames_[i]));
    if (i >= states_.size() || states_[i] != now.back()) changed.push_back(now.back());
  }
  states_ = std::move(now);
  return changed;
}

std::optional<std::string> LinkMonitor::problem() const {
  for (std::size_t i = 0; i < states_.size(); ++i) {
    const LinkState& s = states_[i];
    if (!s.exists) return s.ifname + " does not exist";
    if (!s.up) return s.ifname + " is down";
    if (i == 0 && !s.has_ipv4) return s.ifname + " has no IPv4 address";
  }
  return std::nullopt;
}

std::optional<std::string> LinkMonitor::take_error() {
  return std::exchange(error_, std::nullopt);
}

void LinkMonitor::note_error(std::string text) {
  error_ = "link monitor: " + std::move(text);
}

}  // namespace failoverd::net
