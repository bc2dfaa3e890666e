// Cloudflare API answers (src/cloud/cloudflare.cpp). Every body goes through every parser.
//
// Contract: never throws; an error is a non-empty reason. Accepted records have a non-empty
// id and a TTL in 0..2^30; normalize_dns_name of a record name is idempotent and has no
// trailing dot. parse_api_error leaves one-line, bounded fields.
#include "cloud_support.h"
#include "failoverd/cloud/cloudflare.h"

namespace cloud = failoverd::cloud;

namespace {

void check_record(const cloud::CloudflareRecord& r, std::string_view body) {
  FUZZ_CHECK(!r.id.empty(), body);
  FUZZ_CHECK(r.ttl >= 0 && r.ttl <= (1 << 30), body);
  const auto name = cloud::normalize_dns_name(r.name);
  FUZZ_CHECK(name.empty() || name.back() != '.', name);
  FUZZ_CHECK(cloud::normalize_dns_name(name) == name, name);
}

void run(std::string_view body) {
  if (const auto list = cloud::parse_dns_record_list(body); list) {
    for (const auto& r : list->records) check_record(r, body);
  } else {
    FUZZ_CHECK(!list.error().empty(), body);
  }
  if (const auto r = cloud::parse_dns_record(body); r) {
    check_record(*r, body);
  } else {
    FUZZ_CHECK(!r.error().empty(), body);
  }
  fuzz::check_api_error(body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FUZZ_GUARD(run(fuzz::as_text(data, size)));
  return 0;
}
