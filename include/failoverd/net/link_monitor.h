// Link tracking (`interface` and every `track_interface`): the kernel tells us through rtnetlink
// events when a link goes down, loses carrier, loses its IPv4 address, is renamed or deleted;
// nothing is polled.
//
// Two layers: LinkTable is pure (rtnetlink message bytes in, link state out) and holds the
// message handling rules; LinkMonitor owns the netlink sockets (libnl) and feeds the table.
// Like net::Transport, the monitor knows nothing about event loops: the daemon watches fd()
// for readability and then calls process_events().
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "failoverd/util/expected.h"

namespace failoverd::net {

struct LinkState {
  std::string ifname;
  bool exists = false;
  bool up = false;        // IFF_UP and IFF_RUNNING: administratively up with carrier
  bool has_ipv4 = false;  // at least one IPv4 address
  bool operator==(const LinkState&) const = default;
};

// What the kernel has told us about every link of one network namespace and its IPv4
// addresses, keyed by ifindex, looked up by name. Links are tracked by name: a watched name
// follows renames and re-creation under a new ifindex.
//
// Replaying messages that are older than the table (events queued while a dump was read)
// converges to the kernel's state: each link message carries the whole link, and a delete
// only removes the ifindex it names.
class LinkTable {
 public:
  // Applies one rtnetlink message: RTM_NEWLINK/RTM_DELLINK (family AF_UNSPEC; bridge-port
  // messages are ignored, their DELLINK does not delete a link) and RTM_NEWADDR/RTM_DELADDR
  // (AF_INET). Other messages are ignored. A malformed message changes nothing and comes back
  // as an error naming the problem.
  util::Expected<util::Ok, std::string> apply(std::span<const std::uint8_t> message);

  // State of the link called `ifname` now; exists == false when there is none.
  LinkState state(const std::string& ifname) const;

  std::size_t link_count() const { return by_index_.size(); }

 private:
  struct Link {
    std::string name;  // empty while only addresses were seen for this ifindex
    std::uint32_t flags = 0;
    std::set<std::pair<std::uint32_t, std::uint8_t>> ipv4;  // (address, prefix length)
  };
  void bind(const std::string& name, std::int32_t ifindex);
  // Drops name -> ifindex; another link still carrying the name (only possible while stale
  // messages are replayed) takes it over.
  void unbind(const std::string& name, std::int32_t ifindex);

  std::map<std::int32_t, Link> by_index_;
  std::map<std::string, std::int32_t> by_name_;
};

class LinkMonitor {
 public:
  // Watches these interfaces: the heartbeat interface first, then the track_interface ones
  // (duplicates are dropped, order kept). Subscribes to link and IPv4 address events, then
  // reads the initial state with a dump. The sockets belong to the calling thread's network
  // namespace. Throws std::runtime_error naming the step that failed, or an invalid name.
  explicit LinkMonitor(std::vector<std::string> ifnames);
  ~LinkMonitor();
  LinkMonitor(const LinkMonitor&) = delete;
  LinkMonitor& operator=(const LinkMonitor&) = delete;

  // Readable when events are pending. Owned by the monitor; non-blocking.
  int fd() const;

  // Reads every pending event (at most a bounded batch per call, so the fd stays readable if
  // more is queued) and returns the watched interfaces whose LinkState changed, in watch order.
  // When the kernel dropped events (ENOBUFS: the socket queue overflowed) the state is re-read
  // with a dump, so nothing is lost. Never throws: netlink errors are kept for take_error().
  std::vector<LinkState> process_events();

  // One entry per watched interface, in watch order.
  const std::vector<LinkState>& states() const { return states_; }

  // The first problem, in watch order, or nullopt when every link is fine:
  // "eth9 does not exist", "fo-a is down", "eth1 has no IPv4 address" (the address rule applies
  // only to the first, heartbeat, interface).
  std::optional<std::string> problem() const;

  // The most recent netlink error since the last call (for the log), then nullopt. While a
  // re-read after an overflow keeps failing, states() holds the last known state and every
  // process_events() call tries again.
  std::optional<std::string> take_error();

  // How many times the state was re-read because events were lost.
  std::uint64_t resyncs() const { return resyncs_; }
  // True while a needed re-read has failed: states() may be stale. A caller may then call
  // process_events() from a timer to retry, as no event may come to trigger it.
  bool resync_pending() const { return resync_pending_; }

 private:
  struct Sockets;
  // Replaces table_ with a fresh dump; false (and an error kept) when the dump failed.
  bool resync();
  void note_error(std::string text);
  std::vector<LinkState> refresh_states();

  std::unique_ptr<Sockets> sockets_;
  std::vector<std::string> ifnames_;
  std::vector<LinkState> states_;
  LinkTable table_;
  bool resync_pending_ = false;
  std::optional<std::string> error_;
  std::uint64_t resyncs_ = 0;
};

}  // namespace failoverd::net
