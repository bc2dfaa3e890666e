// Hetzner Cloud API answers (src/cloud/hetzner.cpp). Every body goes through every parser.
//
// Contract: never throws; an error is a non-empty reason. Accepted floating IPs have a
// positive id, and a positive server when assigned; a next page is 1..1000000; an action has
// a positive id and an error message of at most 200 bytes; an instance id is the positive
// number the body spells. parse_api_error leaves one-line, bounded fields.
#include "cloud_support.h"
#include "failoverd/cloud/hetzner.h"

namespace cloud = failoverd::cloud;

namespace {

void check_ip(const cloud::HetznerFloatingIp& f, std::string_view body) {
  FUZZ_CHECK(f.id > 0, body);
  FUZZ_CHECK(!f.server || *f.server > 0, body);
}

void run(std::string_view body) {
  if (const auto page = cloud::parse_floating_ip_page(body); page) {
    for (const auto& f : page->floating_ips) check_ip(f, body);
    FUZZ_CHECK(!page->next_page || (*page->next_page >= 1 && *page->next_page <= 1000000), body);
  } else {
    FUZZ_CHECK(!page.error().empty(), body);
  }
  if (const auto f = cloud::parse_floating_ip(body); f) {
    check_ip(*f, body);
  } else {
    FUZZ_CHECK(!f.error().empty(), body);
  }
  if (const auto a = cloud::parse_hetzner_action(body); a) {
    FUZZ_CHECK(a->id > 0, body);
    FUZZ_CHECK(a->error_message.size() <= 200, body);
  } else {
    FUZZ_CHECK(!a.error().empty(), body);
  }
  fuzz::check_decimal_id(body, cloud::parse_instance_id);
  fuzz::check_api_error(body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FUZZ_GUARD(run(fuzz::as_text(data, size)));
  return 0;
}
