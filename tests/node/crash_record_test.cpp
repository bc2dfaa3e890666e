// The crash record's page format (node/crash_record.h) and the resume decision
// (node/crash_resume.h): every reason a record is not used, and the bound.
#include "failoverd/node/crash_record.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "failoverd/node/crash_resume.h"

namespace failoverd::node {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using util::Ipv4;

constexpr Ipv4 kSource = Ipv4::from_octets(10, 0, 0, 2);
constexpr Ipv4 kPeer = Ipv4::from_octets(10, 0, 0, 3);
constexpr Ipv4 kReserved = Ipv4::from_octets(203, 0, 113, 10);
constexpr core::Time kNow = seconds(1000);

config::Config base_config() {
  config::Config c;
  c.instance.name = "node-a";
  c.instance.interface = "eth0";
  c.vrrp.virtual_router_id = 51;
  c.vrrp.priority = 100;
  c.vrrp.advert_interval = seconds(1);
  c.vrrp.peers = {kPeer};
  c.virtual_ip.addresses = {config::Cidr{Ipv4::from_octets(10, 0, 0, 100), 24}};
  c.control.socket = "/run/failoverd/node-a.sock";
  return c;
}

config::Config with_reserved_ip(config::Config c) {
  c.reserved_ip.provider = config::Provider::kDigitalOcean;
  c.reserved_ip.address = kReserved;
  return c;
}

// What a MASTER of `cfg` writes, its last advert `age` before kNow.
CrashRecord master_record(const config::Config& cfg, core::Duration age) {
  CrashRecord r;
  r.identity = crash_identity(cfg, kSource);
  r.master = true;
  r.last_advert = kNow - age;
  r.adver_interval_cs = core::to_centiseconds(cfg.vrrp.advert_interval);
  r.priority_delta = -10;
  r.reserved_ip_ours = cfg.reserved_ip.address.has_value();
  r.boot_id = "3b0c5c4e-boot";
  r.pid = 4242;
  r.owner = "boot 3b0c5c4e-boot, pid 4242 started at tick 777";
  return r;
}

CrashResumeFacts facts(core::Time now = kNow) {
  return {now, "3b0c5c4e-boot", false};
}

// A page as the writer leaves it, 8-byte aligned as a mapping is.
struct Page {
  alignas(8) std::byte bytes[kCrashRecordSize] = {};
  std::span<std::byte> span() { return bytes; }
  std::span<const std::byte> view() const { return bytes; }
  CrashRecordHeader header() const {
    CrashRecordHeader h;
    std::memcpy(&h, bytes, sizeof h);
    return h;
  }
  void set_header(const CrashRecordHeader& h) { std::memcpy(bytes, &h, sizeof h); }
};

util::Expected<CrashResume, std::string> decide(const CrashRecord& r, const config::Config& cfg,
                                                const CrashResumeFacts& f = facts()) {
  return decide_crash_resume(util::Expected<CrashRecord, std::string>(r), cfg, kSource, f);
}

TEST(CrashRecordPage, WhatIsWrittenReadsBackAndTheAdvertTimeIsOneStore) {
  const auto cfg = with_reserved_ip(base_config());
  Page page;
  CrashRecordWriter w(page.span());
  const CrashRecord r = master_record(cfg, milliseconds(300));
  ASSERT_TRUE(w.write(r));
  auto back = parse_crash_record(page.view());
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(*back, r);

  const auto seq = page.header().sequence;
  w.set_last_advert(kNow);
  auto later = parse_crash_record(page.view());
  ASSERT_TRUE(later) << later.error();
  EXPECT_EQ(later->last_advert, kNow);
  EXPECT_EQ(page.header().sequence, seq) << "the hot path leaves the body alone";

  w.set_master(false);
  auto left = parse_crash_record(page.view());
  ASSERT_TRUE(left);
  EXPECT_FALSE(left->master);
  EXPECT_EQ(left->identity, r.identity);
}

TEST(CrashRecordPage, ARewriteKeepsTheSequenceEvenAndMovesItOn) {
  Page page;
  CrashRecordWriter w(page.span());
  ASSERT_TRUE(w.write(master_record(base_config(), seconds(1))));
  const auto first = page.header().sequence;
  EXPECT_EQ(first % 2, 0U);
  CrashRecord r = master_record(base_config(), seconds(1));
  r.priority_delta = 5;
  ASSERT_TRUE(w.write(r));
  EXPECT_EQ(page.header().sequence % 2, 0U);
  EXPECT_GT(page.header().sequence, first);
  EXPECT_EQ(parse_crash_record(page.view())->priority_delta, 5);
}

TEST(CrashRecordPage, ATornRecordIsRefused) {
  Page page;
  CrashRecordWriter w(page.span());
  ASSERT_TRUE(w.write(master_record(base_config(), seconds(1))));
  auto h = page.header();
  ++h.sequence;  // the writer died between the two counter stores
  page.set_header(h);
  auto r = parse_crash_record(page.view());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("torn"), std::string::npos) << r.error();
}

TEST(CrashRecordPage, GarbageIsRefusedWithWhatIsWrong) {
  Page good;
  CrashRecordWriter w(good.span());
  ASSERT_TRUE(w.write(master_record(base_config(), seconds(1))));

  const auto error_of = [](std::span<const std::byte> bytes) {
    auto r = parse_crash_record(bytes);
    return r ? std::string("parsed") : r.error();
  };
  EXPECT_NE(error_of({}).find("too short"), std::string::npos);
  EXPECT_NE(error_of(good.view().first(20)).find("too short"), std::string::npos);

  Page zeros;  // a file created but never written
  EXPECT_EQ(error_of(zeros.view()), "not a crash record");

  Page version = good;
  auto h = version.header();
  h.version = 2;
  version.set_header(h);
  EXPECT_EQ(error_of(version.view()), "version 2, this failoverd reads 1");

  Page flipped = good;  // one byte of the body changed
  flipped.bytes[sizeof(CrashRecordHeader) + 3] ^= std::byte{0x20};
  EXPECT_NE(error_of(flipped.view()).find("does not match its hash"), std::string::npos);

  Page huge = good;
  h = huge.header();
  h.body_size = 1U << 30;
  huge.set_header(h);
  EXPECT_NE(error_of(huge.view()).find("corrupt"), std::string::npos);

  Page cut = good;  // a file shorter than its body
  EXPECT_NE(error_of(cut.view().first(sizeof(CrashRecordHeader) + 10)).find("corrupt"),
            std::string::npos);

  Page flag = good;
  h = flag.header();
  h.master = 7;
  flag.set_header(h);
  EXPECT_NE(error_of(flag.view()).find("master flag"), std::string::npos);
}

// A body that hashes right but is not what a writer makes.
std::string error_for_body(const std::string& body) {
  Page page;
  CrashRecordWriter w(page.span());
  EXPECT_TRUE(w.write(master_record(base_config(), seconds(1))));
  auto h = page.header();
  std::memcpy(page.bytes + sizeof h, body.data(), body.size());
  h.body_size = static_cast<std::uint32_t>(body.size());
  std::uint64_t hash = 14695981039346656037ULL;
  for (const char c : body) {
    hash ^= static_cast<std::uint8_t>(c);
    hash *= 1099511628211ULL;
  }
  h.body_hash = hash;
  page.set_header(h);
  auto r = parse_crash_record(page.view());
  return r ? std::string("parsed") : r.error();
}

TEST(CrashRecordPage, AWellHashedBodyWithBadFieldsIsRefusedByName) {
  EXPECT_EQ(error_for_body("{not json"), "body is not JSON");
  EXPECT_EQ(error_for_body("[1,2]"), "body is not a JSON object");
  EXPECT_EQ(error_for_body(std::string(100, '[')), "body nests deeper than 64 levels");
  EXPECT_EQ(error_for_body("{}"), "field \"name\": missing");
  // A complete body, then one field at a time made wrong.
  Page page;
  CrashRecordWriter w(page.span());
  ASSERT_TRUE(w.write(master_record(base_config(), seconds(1))));
  const auto h = page.header();
  const auto good = nlohmann::json::parse(
      std::string(reinterpret_cast<const char*>(page.bytes) + sizeof h, h.body_size));
  ASSERT_EQ(error_for_body(good.dump()), "parsed");
  const auto with = [&](const char* key, nlohmann::json value) {
    auto j2 = good;
    j2[key] = std::move(value);
    return error_for_body(j2.dump());
  };
  EXPECT_EQ(with("virtual_router_id", 0), "field \"virtual_router_id\": 0 is out of range 1..255");
  EXPECT_EQ(with("pid", "4242"), "field \"pid\": not an integer");
  EXPECT_EQ(with("peers", "10.0.0.3"), "field \"peers\": not an array");
  EXPECT_EQ(with("peers", {1}), "field \"peers\": not an array of strings");
  EXPECT_EQ(with("reserved_ip_ours", 1), "field \"reserved_ip_ours\": not true or false");
  EXPECT_EQ(with("adver_interval_cs", 4096),
            "field \"adver_interval_cs\": 4096 is out of range 1..4095");
  EXPECT_EQ(with("name", 5), "field \"name\": not a string");
}

TEST(CrashRecordPage, AnIdentityTooLargeForThePageIsNotWrittenAsMaster) {
  config::Config cfg = base_config();
  for (int i = 0; i < 400; ++i) {
    cfg.vrrp.peers.push_back(Ipv4::from_octets(10, 1, static_cast<std::uint8_t>(i / 200),
                                               static_cast<std::uint8_t>(i % 200 + 1)));
  }
  Page page;
  CrashRecordWriter w(page.span());
  EXPECT_FALSE(w.write(master_record(cfg, seconds(1))));
  auto r = parse_crash_record(page.view());
  ASSERT_TRUE(r) << r.error();
  EXPECT_FALSE(r->master);
  EXPECT_FALSE(decide(*r, cfg));
}

TEST(CrashResumeBound, IsThePeersShortestMasterDownInterval) {
  // 3 x 1 s + Skew_Time of priority 254 (2/256 s).
  EXPECT_EQ(crash_resume_bound(base_config(), 100), core::Duration(3'007'812));
  // A config edited since the crash to a longer interval does not lengthen it.
  auto slower = base_config();
  slower.vrrp.advert_interval = seconds(2);
  EXPECT_EQ(crash_resume_bound(slower, 100), core::Duration(3'007'812));
  // At 100 ms, 300 ms and a little: systemd's RestartSec is longer, so no resume.
  auto fast = base_config();
  fast.vrrp.advert_interval = milliseconds(100);
  EXPECT_EQ(crash_resume_bound(fast, 100), core::Duration(300'781));
}

TEST(CrashResume, AFreshRecordOfThisMasterResumes) {
  const auto cfg = with_reserved_ip(base_config());
  auto d = decide(master_record(cfg, milliseconds(2200)), cfg);
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->age, milliseconds(2200));
  EXPECT_EQ(d->bound, crash_resume_bound(cfg, 100));
  EXPECT_EQ(d->record.priority_delta, -10);
  // Without a boot id on either side (/proc/sys hidden) the tmpfs alone vouches for the boot.
  auto r = master_record(cfg, milliseconds(2200));
  r.boot_id.clear();
  EXPECT_TRUE(decide(r, cfg));
  EXPECT_TRUE(decide(master_record(cfg, milliseconds(2200)), cfg, {kNow, "", false}));
}

TEST(CrashResume, TooOldOrExactlyAtTheBoundStartsAsUsual) {
  const auto cfg = base_config();
  const auto bound = crash_resume_bound(cfg, 100);
  auto at = decide(master_record(cfg, bound), cfg);
  ASSERT_FALSE(at);
  EXPECT_EQ(at.error(),
            "too old: the last advert was 3007 ms ago, a peer may take over after "
            "3007 ms");
  EXPECT_FALSE(decide(master_record(cfg, seconds(30)), cfg));
  EXPECT_TRUE(decide(master_record(cfg, bound - core::Duration(1)), cfg));
  // A MASTER that never got an advert out has last_advert 0: too old.
  auto never = master_record(cfg, seconds(0));
  never.last_advert = core::Time{0};
  EXPECT_NE(decide(never, cfg).error().find("too old"), std::string::npos);
}

TEST(CrashResume, ARecordFromTheFutureIsRefused) {
  const auto cfg = base_config();
  auto d = decide(master_record(cfg, -milliseconds(5)), cfg);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().find("in the future"), std::string::npos);
}

TEST(CrashResume, NoRecordUnreadableOrNotMaster) {
  const auto cfg = base_config();
  auto none = decide_crash_resume(std::nullopt, cfg, kSource, facts());
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error(), "no crash record");
  auto bad = decide_crash_resume(
      util::Expected<CrashRecord, std::string>(util::unexpected(std::string("torn: ..."))), cfg,
      kSource, facts());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), "unreadable: torn: ...");
  auto r = master_record(cfg, milliseconds(100));
  r.master = false;
  EXPECT_EQ(decide(r, cfg).error(), "it was not MASTER");
}

TEST(CrashResume, AnotherBootOrALiveWriterIsRefused) {
  const auto cfg = base_config();
  auto other = decide(master_record(cfg, milliseconds(100)), cfg, {kNow, "other-boot", false});
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error(), "it was written in another boot");
  auto alive = decide(master_record(cfg, milliseconds(100)), cfg, {kNow, "3b0c5c4e-boot", true});
  ASSERT_FALSE(alive);
  EXPECT_EQ(alive.error(), "its writer, pid 4242, is still running");
}

TEST(CrashResume, TheReservedIpMustHaveBeenOurs) {
  const auto cfg = with_reserved_ip(base_config());
  auto r = master_record(cfg, milliseconds(100));
  r.reserved_ip_ours = false;
  auto d = decide(r, cfg);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().find("reserved IP 203.0.113.10 was not known to be this node's"),
            std::string::npos)
      << d.error();
}

TEST(CrashResume, EachFieldOfTheIdentityMustMatch) {
  const auto cfg = with_reserved_ip(base_config());
  struct Case {
    const char* field;
    std::function<void(CrashIdentity&)> change;
  };
  const std::vector<Case> cases = {
      {"name", [](CrashIdentity& id) { id.name = "node-b"; }},
      {"interface", [](CrashIdentity& id) { id.interface = "eth1"; }},
      {"address family", [](CrashIdentity& id) { id.family = "ipv6"; }},
      {"virtual_router_id", [](CrashIdentity& id) { id.virtual_router_id = 52; }},
      {"transport", [](CrashIdentity& id) { id.transport = "udp"; }},
      {"source", [](CrashIdentity& id) { id.source = "10.0.0.9"; }},
      {"peers", [](CrashIdentity& id) { id.peers.push_back("10.0.0.4"); }},
      {"peers", [](CrashIdentity& id) { id.peers.clear(); }},
      {"virtual_ip", [](CrashIdentity& id) { id.virtual_ips = {"10.0.0.100/32"}; }},
      {"reserved_ip", [](CrashIdentity& id) { id.reserved_ip = "203.0.113.11"; }},
  };
  for (const auto& c : cases) {
    auto r = master_record(cfg, milliseconds(100));
    c.change(r.identity);
    auto d = decide(r, cfg);
    ASSERT_FALSE(d) << c.field;
    EXPECT_EQ(d.error().rfind(std::string("another instance: ") + c.field + " ", 0), 0U)
        << d.error();
  }
  // The record's VRID against a config with another: said with both values.
  auto other = cfg;
  other.vrrp.virtual_router_id = 52;
  EXPECT_EQ(decide(master_record(cfg, milliseconds(100)), other).error(),
            "another instance: virtual_router_id \"51\", the config's is \"52\"");
  // The heartbeat source is part of it: a node that now has another address is another router.
  EXPECT_FALSE(decide_crash_resume(
      util::Expected<CrashRecord, std::string>(master_record(cfg, milliseconds(100))), cfg,
      Ipv4::from_octets(10, 0, 0, 9), facts()));
}

}  // namespace
}  // namespace failoverd::node
