// DigitalOcean API answers (src/cloud/digitalocean.cpp): whatever api.digitalocean.com, a
// proxy in between or a metadata impostor answers. Every body goes through every parser.
//
// Contract: never throws; an error is a non-empty reason. An accepted reserved IP's droplet
// id is positive when set; an accepted action has a positive id; a droplet id is the
// positive number the body spells. parse_api_error leaves one-line, bounded fields.
#include "cloud_support.h"
#include "failoverd/cloud/digitalocean.h"

namespace cloud = failoverd::cloud;

namespace {

void run(std::string_view body) {
  if (const auto ip = cloud::parse_reserved_ip(body); ip) {
    FUZZ_CHECK(!ip->droplet_id || *ip->droplet_id > 0, body);
  } else {
    FUZZ_CHECK(!ip.error().empty(), body);
  }
  if (const auto a = cloud::parse_action(body); a) {
    FUZZ_CHECK(a->id > 0, body);
  } else {
    FUZZ_CHECK(!a.error().empty(), body);
  }
  fuzz::check_decimal_id(body, cloud::parse_droplet_id);
  fuzz::check_api_error(body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FUZZ_GUARD(run(fuzz::as_text(data, size)));
  return 0;
}
